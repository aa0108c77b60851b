"""Calibrated probabilities and the call rule: temperature scaling, then a class or "uncertain".

Both are fitted on the validation patients of the training split (never on the cross-source films;
see ``calibration_fit``) and stored in the card's ``calibration`` entry, which every entry point
applies through the classifier. Temperature scaling divides the log-probabilities by T and
renormalises: the ranking of the classes for a film does not change, only how sure the numbers say
the model is. A film gets a call (its top class k) when the calibrated probability of k reaches k's own
threshold and its margin over the second reaches the margin, all chosen on validation; otherwise it is
"uncertain". A class may have no threshold (its calls never reached the target precision on
validation): it is then never called. Cards fitted before per-class thresholds hold one threshold for
every class and behave as they did. :meth:`Calibration.why_no_call` words, for the reader, why a film got
no call: its top class is never called, or is below its own threshold, or leads the second too narrowly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cxviewer.no_call import GENERIC_NO_CALL

UNCERTAIN = "uncertain"


def temper(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T), row-wise."""
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=-1, keepdims=True)
    e = np.exp(logp)
    return e / e.sum(axis=-1, keepdims=True)


def calls(probs: np.ndarray, min_probability, min_margin: float) -> np.ndarray:
    """Index of the called class per row, -1 for uncertain: the top class k is called when its probability
    >= min_probability[k] and its margin over the second >= min_margin. ``min_probability`` is one float
    (every class) or one per class in column order, where NaN means the class is never called."""
    probs = np.asarray(probs, dtype=np.float64)
    per_class = np.broadcast_to(np.asarray(min_probability, dtype=np.float64), probs.shape[1:])
    top = probs.argmax(axis=1)
    top2 = np.sort(probs, axis=1)[:, -2:]
    need = per_class[top]
    sure = ~np.isnan(need) & (top2[:, 1] >= np.nan_to_num(need)) & (top2[:, 1] - top2[:, 0] >= min_margin)
    return np.where(sure, top, -1)


@dataclass(frozen=True)
class Calibration:
    """The card's temperature and call rule. ``min_probability`` is a float (cards before issue 17: the same
    threshold for every class) or {label: float or None} (None: that class is never called).
    ``target_precision``: the share of right calls on validation each class's threshold was chosen for
    (the card's ``target_accuracy_on_validation``; None where the card does not say)."""

    temperature: float
    min_probability: float | Mapping[str, float | None]
    min_margin: float
    target_precision: float | None = None

    @classmethod
    def from_card(cls, entry: dict | None) -> Calibration | None:
        if not entry:
            return None
        call = entry.get("call", {})
        p = call.get("min_probability", 0.0)
        p = {str(k): None if v is None else float(v) for k, v in p.items()} if isinstance(p, Mapping) else float(p)
        target = call.get("target_accuracy_on_validation")
        return cls(float(entry["temperature"]), p, float(call.get("min_margin", 0.0)),
                   None if target is None else float(target))

    @property
    def per_class(self) -> bool:
        return isinstance(self.min_probability, Mapping)

    def thresholds(self, labels) -> np.ndarray:
        """The probability threshold for each of ``labels`` (column order); NaN: never called."""
        p = self.min_probability
        if not isinstance(p, Mapping):
            return np.full(len(labels), float(p))
        missing = [lb for lb in labels if lb not in p]
        if missing:
            raise ValueError(f"the card's call rule names no threshold for {', '.join(missing)}")
        return np.array([np.nan if p[lb] is None else p[lb] for lb in labels], dtype=np.float64)

    def apply(self, probs) -> np.ndarray:
        return temper(np.asarray(probs, dtype=np.float64)[np.newaxis], self.temperature)[0]

    def calls(self, labels, calibrated_probs) -> np.ndarray:
        """Index of the called class per row of calibrated probabilities, -1 for uncertain."""
        return calls(calibrated_probs, self.thresholds(labels), self.min_margin)

    def call(self, labels, calibrated_probs) -> str:
        idx = int(self.calls(labels, np.asarray(calibrated_probs)[np.newaxis])[0])
        return labels[idx] if idx >= 0 else UNCERTAIN

    def why_no_call(self, labels, calibrated_probs, display=str) -> str:
        """Why this rule makes no call on a film, to print after "Uncertain: " (``display``: the reader's name
        of a label); "" when it makes one. An old card's one threshold keeps its generic sentence."""
        probs = np.asarray(calibrated_probs, dtype=np.float64)
        order = np.argsort(-probs, kind="stable")
        top, second = int(order[0]), int(order[1]) if len(order) > 1 else None
        p = float(probs[top])
        need = float(self.thresholds(labels)[top])
        name = display(labels[top])
        right = ("were not right often enough" if self.target_precision is None
                 else f"were right less than {_percent(self.target_precision)} of the time")
        if self.per_class and np.isnan(need):
            return (f"the model never calls {name} (the top class here, at {_percent(p)}); on the validation "
                    f"patients its {name} calls {right}")
        if p < need:
            if not self.per_class:
                return GENERIC_NO_CALL
            here, there = _percents(p, need)
            where = ("" if self.target_precision is None else
                     f" (where its {name} calls were right at least {_percent(self.target_precision)} "
                     "of the time on validation)")
            return f"{name} is at {here} here; the model calls {name} only from {there}{where}"
        lead = p - float(probs[second]) if second is not None else p
        if lead < self.min_margin:
            gap, least = (x.replace(" %", " points") for x in _percents(lead, self.min_margin))
            return (f"{name} ({_percent(p)}) leads {display(labels[second])} ({_percent(float(probs[second]))}) "
                    f"by {gap}; the model calls only with a lead of at least {least}")
        return ""

    def describe(self, labels, display=str) -> str:
        """The thresholds in words, for the card: per class, or an old card's one threshold as its card named it."""
        if not isinstance(self.min_probability, Mapping):
            return f"min_probability {float(self.min_probability):.2f}, min_margin {self.min_margin:.2f}"
        margin = f"; margin over the second >= {self.min_margin:.2f}" if self.min_margin else ""
        parts = [f"{display(lb)} never called" if np.isnan(t) else f"{display(lb)} >= {t:.2f}"
                 for lb, t in zip(labels, self.thresholds(labels))]
        return "per class: " + ", ".join(parts) + margin


def _percent(x: float) -> str:
    return f"{x * 100:.0f} %"


def _percents(below: float, threshold: float) -> tuple[str, str]:
    """A probability and the threshold it falls short of, with a decimal where whole percents would tie."""
    a, b = _percent(below), _percent(threshold)
    return (a, b) if a != b else (f"{below * 100:.1f} %", f"{threshold * 100:.1f} %")
