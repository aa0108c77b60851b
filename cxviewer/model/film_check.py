"""Is this a whole, upright chest film? A linear check on the classifier's pooled features.

The Mahalanobis gate (``ood.py``) measures distance from the training films, and it refuses
photographs, documents and other body parts; but an upside-down chest film or a tight crop of
one is still "near" the training films in that sense (v1 refused only 15-48 % of them at a
threshold that lets 99 % of real films through). This check learns the direction that separates
them (outlier exposure, Hendrycks et al. 2019): a logistic regression in the gate's PCA space,
trained on the training patients' films as they are against the same films turned upside down
and cut to their central 30 %. Its threshold is set so that at least 99.5 % of held-out films pass.
Only those two transformations are learned: photographs, documents and CT are left to the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

L2 = 1e-2
STEPS = 800
LEARNING_RATE = 0.5


@dataclass(frozen=True)
class FilmCheck:
    """Works on features already projected by the model's gate (:meth:`OodGate.project`)."""

    scale: np.ndarray  # (c,) standard deviation of each component on the training films
    weights: np.ndarray  # (c,)
    bias: float
    threshold: float  # on the probability of "not a whole upright film"

    def probability(self, z: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(z) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))

    def refuses(self, z: np.ndarray) -> np.ndarray:
        return self.probability(z) > self.threshold

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, scale=self.scale, weights=self.weights, bias=np.array(self.bias),
                            threshold=np.array(self.threshold))

    @classmethod
    def load(cls, path: str | Path) -> FilmCheck:
        with np.load(path) as z:
            return cls(z["scale"], z["weights"], float(z["bias"]), float(z["threshold"]))


def fit_film_check(gate, whole: np.ndarray, altered: np.ndarray) -> FilmCheck:
    """Logistic regression (balanced, L2) of altered (1) vs whole upright (0) films in the gate's PCA space."""
    zw = gate.project(whole)
    za = gate.project(altered)
    scale = zw.std(axis=0) + 1e-6
    x = np.concatenate([zw, za]) / scale
    y = np.concatenate([np.zeros(len(zw)), np.ones(len(za))])
    sample_w = np.where(y == 1, 0.5 / len(za), 0.5 / len(zw))
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(STEPS):  # plain gradient descent: 64 weights, a few thousand rows
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = (p - y) * sample_w
        w -= LEARNING_RATE * (x.T @ g + L2 * w)
        b -= LEARNING_RATE * g.sum()
    return FilmCheck(scale, w, float(b), float("inf"))


def calibrate_film_check(check: FilmCheck, held_out_z: np.ndarray, pass_rate: float = 0.995) -> FilmCheck:
    """Threshold at the ``pass_rate`` quantile of held-out films (projected by the gate)."""
    threshold = float(np.quantile(check.probability(held_out_z), pass_rate))
    return FilmCheck(check.scale, check.weights, check.bias, threshold)
