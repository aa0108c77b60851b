"""Fitting the calibration on validation films (training side): the temperature that minimises the
negative log-likelihood, and the call rule's thresholds with the widest coverage at a target
accuracy. The result is the card's ``calibration`` entry, which ``cxviewer.model.calibration``
applies at run time.
"""

from __future__ import annotations

import numpy as np

from cxviewer.model.calibration import calls, temper

PROBABILITY_GRID = tuple(round(x, 2) for x in np.arange(0.34, 0.96, 0.01))

MARGIN_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)

MIN_CALLED = 20


def nll(y: np.ndarray, probs: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0)).mean())


def fit_temperature(y: np.ndarray, probs: np.ndarray) -> float:
    """The T in [0.05, 20] that minimises the validation negative log-likelihood (golden-section on log T)."""
    lo, hi = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(y, temper(probs, np.exp(a))), nll(y, temper(probs, np.exp(b)))
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(y, temper(probs, np.exp(a)))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(y, temper(probs, np.exp(b)))
    return float(np.exp((lo + hi) / 2))


def call_figures(y: np.ndarray, probs: np.ndarray, min_probability: float, min_margin: float) -> dict:
    c = calls(probs, min_probability, min_margin)
    called = c >= 0
    return {
        "coverage": float(called.mean()) if len(c) else float("nan"),
        "accuracy_when_called": float((c[called] == np.asarray(y)[called]).mean()) if called.any() else float("nan"),
        "n": int(len(c)),
        "called": int(called.sum()),
    }


def choose_thresholds(y: np.ndarray, probs: np.ndarray, target_accuracy: float) -> tuple[float, float, list]:
    """The (probability, margin) pair with the widest coverage whose accuracy among called films reaches the
    target on these (validation) films; the coverage/accuracy curve for the card. Falls back to the pair with
    the best accuracy when no pair reaches the target."""
    curve = []
    best: tuple[tuple[float, float, float], float, float] | None = None  # (coverage, -t, -m), t, m
    fallback: tuple[float, float, float] | None = None  # accuracy, t, m
    for t in PROBABILITY_GRID:
        for m in MARGIN_GRID:
            f = call_figures(y, probs, t, m)
            if f["called"] < MIN_CALLED:
                continue
            if m == 0.0:
                curve.append([t, round(f["coverage"], 4), round(f["accuracy_when_called"], 4)])
            key = (f["coverage"], -t, -m)
            if f["accuracy_when_called"] >= target_accuracy and (best is None or key > best[0]):
                best = (key, t, m)
            if fallback is None or f["accuracy_when_called"] > fallback[0]:
                fallback = (f["accuracy_when_called"], t, m)
    if best is not None:
        return float(best[1]), float(best[2]), curve
    if fallback is None:
        raise ValueError(f"no call rule calls at least {MIN_CALLED} films: too few validation films")
    return float(fallback[1]), float(fallback[2]), curve


def fit_calibration(y: np.ndarray, raw_probs: np.ndarray, target_accuracy: float) -> dict:
    """The card's ``calibration`` entry, from validation labels and the model's uncalibrated probabilities."""
    t = fit_temperature(y, raw_probs)
    cal = temper(raw_probs, t)
    p_min, m_min, curve = choose_thresholds(y, cal, target_accuracy)
    return {
        "method": "temperature scaling of the log-probabilities (softmax(log p / T))",
        "temperature": round(t, 4),
        "fitted_on": f"validation patients of the training split (n = {len(y)})",
        "validation_nll": {"before": round(nll(y, raw_probs), 4), "after": round(nll(y, cal), 4)},
        "call": {
            "min_probability": p_min,
            "min_margin": m_min,
            "target_accuracy_on_validation": target_accuracy,
            "validation": call_figures(y, cal, p_min, m_min),
            "rule": "a film is called its top class when the calibrated top probability >= min_probability and its "
                    "margin over the second >= min_margin; otherwise 'uncertain'",
        },
        "curve_validation": {"columns": ["min_probability", "coverage", "accuracy_when_called"], "rows": curve},
    }
