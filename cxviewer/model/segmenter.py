"""The lung segmenter behind one small interface, like the classifier: loaded from its card, run by LiteRT
(no TensorFlow import) or TensorFlow, chosen as for the classifier (:func:`cxviewer.model.runtime.resolve_runtime`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from cxviewer.model.card import ModelCard, ModelCardError, load_card
from cxviewer.model.lung_mask import clean_mask, crop_box, segmenter_input, to_source
from cxviewer.model.runtime import SegmenterNetwork

ARCHITECTURE = "unet-compact"  # cxviewer.model.lung_unet's (which imports Keras)


@dataclass(frozen=True)
class LungResult:
    mask_small: np.ndarray  # uint8 0/1 at the segmenter's resolution, cleaned
    box: tuple[int, int, int, int] | None  # dilated bounding box + margin in source pixels; None: implausible mask
    source_shape: tuple[int, int]

    @cached_property
    def mask(self) -> np.ndarray:
        """uint8 0/1 on the source pixel grid (made once, when first asked for)."""
        return to_source(self.mask_small, self.source_shape)


class LungSegmenter:
    def __init__(self, card: ModelCard, runtime: str | None = None):
        from cxviewer.model.runtime import resolve_runtime

        if card.architecture != ARCHITECTURE:
            raise ModelCardError(f"{card.title}: not a lung segmenter ({card.architecture!r})")
        self.card = card
        self.size = card.input_size
        self.runtime = resolve_runtime(card, runtime)
        self._forward: SegmenterNetwork
        if self.runtime == "litert":
            from cxviewer.model.litert_network import LiteRTSegmenterNetwork

            self._forward = LiteRTSegmenterNetwork(card)
        else:
            from cxviewer.model.tf_network import TFSegmenterNetwork

            self._forward = TFSegmenterNetwork(card)
        self.device = self._forward.device

    def inputs(self, images: list[np.ndarray]) -> np.ndarray:
        """(N, S, S, 1) network inputs for 8-bit display images (thread-safe: the scan's decode workers make them)."""
        return np.stack([segmenter_input(img, self.size) for img in images])

    def probabilities(self, images: list[np.ndarray], batch: int = 8, inputs: np.ndarray | None = None) -> np.ndarray:
        """(N, S, S) lung probabilities for 8-bit display images (``inputs``: their :meth:`inputs`, if made already)."""
        x = self.inputs(images) if inputs is None else inputs
        parts = [self._forward(x[i : i + batch]) for i in range(0, len(x), batch)]
        return np.concatenate(parts)[..., 0]

    def segment_many(self, images: list[np.ndarray], inputs: np.ndarray | None = None) -> list[LungResult]:
        """One batched run of the network for all ``images``, then each mask cleaned and boxed."""
        return [self.result(img, prob) for img, prob in zip(images, self.probabilities(images, inputs=inputs))]

    @staticmethod
    def result(image: np.ndarray, prob: np.ndarray) -> LungResult:
        """One image's lungs from its row of :meth:`probabilities`: the mask cleaned and boxed (thread-safe:
        OpenCV and numpy only, so the scan runs it on its preparing threads)."""
        small = clean_mask(prob)
        return LungResult(small, crop_box(small, image.shape[:2]), tuple(image.shape[:2]))

    def segment(self, image_u8: np.ndarray) -> LungResult:
        """One film's lungs."""
        return self.segment_many([image_u8], inputs=segmenter_input(image_u8, self.size)[np.newaxis])[0]


def load_segmenter(model_dir: str | Path, runtime: str | None = None) -> LungSegmenter:
    return LungSegmenter(load_card(model_dir), runtime)
