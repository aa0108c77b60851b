"""Calibrated probabilities and the call rule: temperature scaling, then a class or "uncertain".

Both are fitted on the validation patients of the training split (never on the cross-source films;
see ``calibration_fit``) and stored in the card's ``calibration`` entry, which every entry point
applies through the classifier. Temperature scaling divides the log-probabilities by T and
renormalises: the ranking of the classes for a film does not change, only how sure the numbers say
the model is. A film gets a call (its top class) when the calibrated top probability and its margin
over the second reach the thresholds chosen on validation; otherwise it is "uncertain".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNCERTAIN = "uncertain"


def temper(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T), row-wise."""
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=-1, keepdims=True)
    e = np.exp(logp)
    return e / e.sum(axis=-1, keepdims=True)


def calls(probs: np.ndarray, min_probability: float, min_margin: float) -> np.ndarray:
    """Index of the called class per row, -1 for uncertain."""
    top2 = np.sort(probs, axis=1)[:, -2:]
    sure = (top2[:, 1] >= min_probability) & (top2[:, 1] - top2[:, 0] >= min_margin)
    return np.where(sure, probs.argmax(axis=1), -1)


@dataclass(frozen=True)
class Calibration:
    temperature: float
    min_probability: float
    min_margin: float

    @classmethod
    def from_card(cls, entry: dict | None) -> Calibration | None:
        if not entry:
            return None
        call = entry.get("call", {})
        return cls(float(entry["temperature"]), float(call.get("min_probability", 0.0)), float(call.get("min_margin", 0.0)))

    def apply(self, probs) -> np.ndarray:
        return temper(np.asarray(probs, dtype=np.float64)[np.newaxis], self.temperature)[0]

    def call(self, labels, calibrated_probs) -> str:
        idx = int(calls(np.asarray(calibrated_probs)[np.newaxis], self.min_probability, self.min_margin)[0])
        return labels[idx] if idx >= 0 else UNCERTAIN
