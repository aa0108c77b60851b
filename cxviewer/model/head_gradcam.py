"""Grad-CAM without autodiff, for the LiteRT path: the gradient through the head in numpy.

The classifier's head is global average pooling -> Dense -> ReLU -> (Dropout: identity at
inference) -> Dense -> softmax. For that head the gradient of the leading class's score with
respect to the Grad-CAM layer's feature map has a closed form, so this is exact, not an
approximation. It matches :func:`cxviewer.model.gradcam.make_explainer` term for term: the score
is the softmax probability of the leading class (what that function differentiates), the
per-channel weights are the spatial mean of the positive part of the gradient, and the map is
the positive part of the weighted sum of the channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Head:
    dense_kernel: np.ndarray  # (C, hidden)
    dense_bias: np.ndarray  # (hidden,)
    out_kernel: np.ndarray  # (hidden, classes)
    out_bias: np.ndarray  # (classes,)

    @classmethod
    def load(cls, path: str | Path) -> Head:
        with np.load(path, allow_pickle=False) as z:
            return cls(*(z[k].astype(np.float64) for k in ("dense_kernel", "dense_bias", "out_kernel", "out_bias")))

    def cams(self, feature_maps: np.ndarray) -> np.ndarray:
        """(N, h, w, C) Grad-CAM layer outputs -> (N, h, w) maps of each image's leading class."""
        fmap = feature_maps.astype(np.float64)
        n, h, w, _ = fmap.shape
        pooled = fmap.mean(axis=(1, 2))  # (N, C): the 'gap' layer
        hidden = pooled @ self.dense_kernel + self.dense_bias  # pre-ReLU
        act = np.maximum(hidden, 0.0)
        logits = act @ self.out_kernel + self.out_bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        top = probs.argmax(axis=1)
        rows = np.arange(n)
        # d p_c / d z_k = p_c (delta_ck - p_k)
        d_logits = -probs * probs[rows, top][:, None]
        d_logits[rows, top] += probs[rows, top]
        d_hidden = (d_logits @ self.out_kernel.T) * (hidden > 0)  # ReLU's gradient is 0 at 0, as TensorFlow's
        d_pooled = d_hidden @ self.dense_kernel.T  # (N, C)
        # every position of the map gets d_pooled / (h w); the weights are the spatial mean of its positive part
        weights = np.maximum(d_pooled / (h * w), 0.0)
        cam = np.einsum("nhwc,nc->nhw", fmap, weights)
        return np.maximum(cam, 0.0).astype(np.float32)
