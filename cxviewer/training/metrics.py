"""Evaluation figures in plain numpy: one-vs-rest ROC AUC, recall/precision, confusion matrix."""

from __future__ import annotations

import numpy as np


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted half); NaN if one class is absent."""
    y_true = np.asarray(y_true).astype(bool)
    pos, neg = int(y_true.sum()), int((~y_true).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(np.asarray(score), return_inverse=True, return_counts=True)
    end = np.cumsum(counts).astype(np.float64)
    rank_of = ((end - counts + 1.0) + end)[inverse.ravel()] / 2.0  # tied scores share their average rank
    return float((rank_of[y_true].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def classification_report(y_true: np.ndarray, probs: np.ndarray, labels: tuple[str, ...]) -> dict:
    y_true = np.asarray(y_true)
    y_pred = probs.argmax(axis=1)
    cm = confusion(y_true, y_pred, len(labels))
    per_class = {}
    aucs = []
    for k, name in enumerate(labels):
        tp = cm[k, k]
        recall = tp / cm[k].sum() if cm[k].sum() else float("nan")
        precision = tp / cm[:, k].sum() if cm[:, k].sum() else float("nan")
        auc = roc_auc(y_true == k, probs[:, k])
        aucs.append(auc)
        per_class[name] = {"recall": float(recall), "precision": float(precision), "auc": auc, "n": int(cm[k].sum())}
    recalls = [v["recall"] for v in per_class.values()]
    return {
        "n": int(len(y_true)),
        "accuracy": float((y_pred == y_true).mean()) if len(y_true) else float("nan"),
        "balanced_accuracy": float(np.nanmean(recalls)),
        "macro_auc": float(np.nanmean(aucs)),
        "per_class": per_class,
        "confusion_matrix": {"labels": list(labels), "rows_true_cols_predicted": cm.tolist()},
    }
