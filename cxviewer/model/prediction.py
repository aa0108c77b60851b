"""What one classification returns (Qt-free, TensorFlow-free)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prediction:
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    model_name: str
    model_version: str
    elapsed_ms: float
    device: str
    heatmap: np.ndarray | None = None  # float32 in [0, 1] on the input image's pixel grid

    @property
    def label(self) -> str:
        return self.labels[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(max(self.probabilities))

    def probability(self, label: str) -> float:
        return self.probabilities[self.labels.index(label)]

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "probabilities": dict(zip(self.labels, (round(float(p), 6) for p in self.probabilities))),
            "model": self.model_name,
            "model_version": self.model_version,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "device": self.device,
        }
