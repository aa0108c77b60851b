"""Out-of-distribution gate: how unlike the training radiographs an input is.

Class-conditional Mahalanobis distance with a shared covariance (Lee et al., 2018) on the
classifier's pooled DenseNet features, computed in a PCA subspace fitted on the training images
so the covariance is well conditioned. The score is the distance to the nearest class mean; the
threshold is calibrated on held-out chest radiographs (validation patients) so that at least
99 % of them pass. Above the threshold the app says "outside the model's scope" instead of
giving probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

COMPONENTS = 64
RIDGE = 1e-3


@dataclass(frozen=True)
class OodGate:
    mean: np.ndarray  # (d,) feature mean removed before projection
    components: np.ndarray  # (d, c) PCA projection
    class_means: np.ndarray  # (k, c)
    precision: np.ndarray  # (c, c) inverse of the shared within-class covariance
    threshold: float

    def project(self, features: np.ndarray) -> np.ndarray:
        """Pooled features -> the gate's PCA space (shared with the film check)."""
        return (np.atleast_2d(features) - self.mean) @ self.components

    def score(self, features: np.ndarray) -> np.ndarray:
        z = self.project(features)
        d2 = np.stack([np.einsum("ij,jk,ik->i", z - m, self.precision, z - m) for m in self.class_means], axis=1)
        return np.sqrt(np.maximum(d2.min(axis=1), 0.0))

    def in_scope(self, score: float) -> bool:
        return bool(score <= self.threshold)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path, mean=self.mean, components=self.components, class_means=self.class_means,
            precision=self.precision, threshold=np.array(self.threshold),
        )

    @classmethod
    def load(cls, path: str | Path) -> OodGate:
        with np.load(path) as z:
            return cls(z["mean"], z["components"], z["class_means"], z["precision"], float(z["threshold"]))


def fit_gate(features: np.ndarray, labels: np.ndarray, components: int = COMPONENTS) -> OodGate:
    """Fit on training features; the threshold is set later by :func:`calibrate`."""
    features = features.astype(np.float64)
    mean = features.mean(axis=0)
    centred = features - mean
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    proj = vt[: min(components, vt.shape[0])].T
    z = centred @ proj
    classes = np.unique(labels)
    class_means = np.stack([z[labels == k].mean(axis=0) for k in classes])
    within = np.concatenate([z[labels == k] - class_means[i] for i, k in enumerate(classes)])
    cov = within.T @ within / max(1, len(within) - 1)
    cov += RIDGE * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0])
    return OodGate(mean, proj, class_means, np.linalg.inv(cov), float("inf"))


def calibrate(gate: OodGate, held_out_features: np.ndarray, pass_rate: float = 0.995) -> OodGate:
    """Threshold at the ``pass_rate`` quantile of held-out chest radiographs' scores."""
    scores = gate.score(held_out_features)
    threshold = float(np.quantile(scores, pass_rate))
    return OodGate(gate.mean, gate.components, gate.class_means, gate.precision, threshold)
