"""Fitting the calibration on validation films (training side): the temperature that minimises the
negative log-likelihood, and per class the lowest probability threshold at which that class's calls
reach a target precision (the classes' calls differ in reliability: one threshold for all let the
least reliable class's calls through). The result is the card's ``calibration`` entry, which
``cxviewer.model.calibration`` applies at run time.
"""

from __future__ import annotations

import numpy as np

from cxviewer.model.calibration import Calibration, temper

# A call is never made on a class the model itself gives less than even odds, however reliable that class's calls
# were on validation: there, where each class came from its own source, a film whose top class was COVID-19 at
# 40 % (38 % against 34 % and 28 %) was nearly always COVID-19, and such a film would be shown as a call; on another
# hospital's film (the bundled sample, a film with many nodules) it is a guess.
MIN_CALL_PROBABILITY = 0.5
PROBABILITY_GRID = tuple(round(x, 2) for x in np.arange(MIN_CALL_PROBABILITY, 0.96, 0.01))

# A class's threshold is chosen on its own validation calls, so it needs enough of them that a handful of
# lucky films cannot set it: at 8 calls one wrong call still leaves 7/8 = 87.5 %, so the 85 % target is met only
# with at most one wrong. The single rule it replaced asked 20 calls over all three classes, about 7 per class;
# a class's calls on the bundled models' ~260 validation films run to a few dozen, so a larger minimum would cut
# the curve off before it reaches the thresholds that matter.
MIN_CALLS_PER_CLASS = 8


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


def call_figures(y: np.ndarray, called: np.ndarray, labels=None) -> dict:
    """Share called and accuracy among called films, from the called class per film (-1: uncertain, as
    ``Calibration.calls`` gives them); with ``labels``, each class's calls too (how many, share truly that class)."""
    y, c = np.asarray(y), np.asarray(called)
    sure = c >= 0
    out = {
        "coverage": float(sure.mean()) if len(c) else float("nan"),
        "accuracy_when_called": float((c[sure] == y[sure]).mean()) if sure.any() else float("nan"),
        "n": int(len(c)),
        "called": int(sure.sum()),
    }
    if labels is not None:
        out["per_class"] = {
            lb: {"called": int((c == k).sum()), "precision": float((y[c == k] == k).mean()) if (c == k).any() else None}
            for k, lb in enumerate(labels)
        }
    return out


def class_threshold(y: np.ndarray, probs: np.ndarray, k: int, target: float) -> tuple[float | None, list]:
    """The lowest grid threshold t at which the films whose top class is k with probability >= t number at
    least MIN_CALLS_PER_CLASS and are truly k at least ``target`` of the time (None: never on these films),
    and the curve [t, films called k, precision] down to the last t with enough calls."""
    top, top_p = probs.argmax(axis=1), probs.max(axis=1)
    chosen, curve = None, []
    for t in PROBABILITY_GRID:
        sel = (top == k) & (top_p >= t)
        if sel.sum() < MIN_CALLS_PER_CLASS:
            break  # fewer films as t rises: no later threshold has enough either
        precision = float((y[sel] == k).mean())
        curve.append([t, int(sel.sum()), round(precision, 4)])
        if chosen is None and precision >= target:
            chosen = float(t)
    return chosen, curve


def fit_calibration(y: np.ndarray, raw_probs: np.ndarray, target_accuracy: float, labels) -> dict:
    """The card's ``calibration`` entry, from validation labels and the model's uncalibrated probabilities:
    T, then per class the lowest probability threshold whose calls of that class reach ``target_accuracy``
    precision on validation (a class that never does is never called)."""
    y = np.asarray(y)
    t = fit_temperature(y, raw_probs)
    cal = temper(raw_probs, t)
    thresholds, curves = {}, {}
    for k, label in enumerate(labels):
        thresholds[label], curves[label] = class_threshold(y, cal, k, target_accuracy)
    rule = Calibration(t, thresholds, 0.0)
    return {
        "method": "temperature scaling of the log-probabilities (softmax(log p / T))",
        "temperature": round(t, 4),
        "fitted_on": f"validation patients of the training split (n = {len(y)})",
        "validation_nll": {"before": round(nll(y, raw_probs), 4), "after": round(nll(y, cal), 4)},
        "call": {
            "min_probability": thresholds,
            "min_margin": 0.0,
            "target_accuracy_on_validation": target_accuracy,
            "min_calls_per_class": MIN_CALLS_PER_CLASS,
            "validation": call_figures(y, rule.calls(labels, cal), labels),
            "rule": "per class: a film is called its top class k when the calibrated probability of k >= "
                    "min_probability[k] (null: k is never called) and its margin over the second >= min_margin; "
                    "otherwise 'uncertain'. Each class's threshold is the lowest on the grid at which the validation "
                    "films called k are truly k at least target_accuracy_on_validation of the time, over at least "
                    "min_calls_per_class calls; fitted on the validation patients only",
        },
        "curve_validation": {"columns": ["min_probability", "called_as_class", "precision"], "per_class": curves},
    }
