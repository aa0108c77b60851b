"""Two classifiers side by side on the same held-out patients: the table for the README and the cards.

Figures come from each card's ``metrics.test``; the difference in macro AUC also gets a paired
bootstrap interval from the per-image predictions each evaluation wrote (same images, resampled
together), so a gap smaller than the noise is called that.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from cxviewer.training.metrics import roc_auc


def read_prediction_file(path: Path, labels) -> dict[str, tuple[str, np.ndarray]]:
    """image -> (true label, probabilities) from a per-image predictions CSV an evaluation wrote."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {r["image"]: (r["label"], np.array([float(r[f"p_{k}"]) for k in labels])) for r in rows}


def _read_predictions(card, which: str = "test") -> dict[str, tuple[str, np.ndarray]]:
    entry = card.metrics.get(which, {}) if which != "test" else card.metrics
    name = entry.get("predictions_file")
    if not name or not (card.directory / name).exists():
        return {}
    return read_prediction_file(card.directory / name, card.labels)


def _macro_auc(y: np.ndarray, p: np.ndarray, n: int) -> float:
    return float(np.nanmean([roc_auc(y == k, p[:, k]) for k in range(n)]))


def paired_auc_difference(card_a, card_b, rounds: int = 2000, seed: int = 0, which: str = "test") -> dict | None:
    """Macro AUC of b minus a on the images both evaluated (``which``: "test" for the held-out patients,
    "cross_source"), with a 95 % paired bootstrap interval."""
    a, b = _read_predictions(card_a, which), _read_predictions(card_b, which)
    common = sorted(set(a) & set(b))
    if len(common) < 20 or card_a.labels != card_b.labels:
        return None
    labels = list(card_a.labels)
    y = np.array([labels.index(a[k][0]) for k in common])
    pa = np.stack([a[k][1] for k in common])
    pb = np.stack([b[k][1] for k in common])
    n = len(labels)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(rounds):
        idx = rng.integers(0, len(common), len(common))
        diffs.append(_macro_auc(y[idx], pb[idx], n) - _macro_auc(y[idx], pa[idx], n))
    lo, hi = np.nanpercentile(diffs, [2.5, 97.5])
    return {"n": len(common), "difference": _macro_auc(y, pb, n) - _macro_auc(y, pa, n), "ci95": (float(lo), float(hi))}


def _f(v, fmt="{:.3f}") -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else fmt.format(v)


def comparison_rows(cards) -> list[tuple[str, list[str]]]:
    tests = [c.metrics.get("test", {}) for c in cards]
    rows: list[tuple[str, list[str]]] = [
        ("Input", ["lung crop" if c.data["input"].get("crop") else "whole film" for c in cards]),
        ("Held-out test images", [_f(t.get("n"), "{}") for t in tests]),
        ("Macro ROC AUC", [_f(t.get("macro_auc")) for t in tests]),
        ("Accuracy", [_f(t.get("accuracy")) for t in tests]),
        ("Balanced accuracy", [_f(t.get("balanced_accuracy")) for t in tests]),
    ]
    for label in cards[0].labels:
        rows.append((f"Recall {label}", [_f(t.get("per_class", {}).get(label, {}).get("recall")) for t in tests]))
    for label in cards[0].labels:
        rows.append((f"AUC {label}", [_f(t.get("per_class", {}).get(label, {}).get("auc")) for t in tests]))
    sources = sorted({s for t in tests for s in t.get("accuracy_by_source", {})})
    for src in sources:
        rows.append((f"Accuracy on {src}", [_f(t.get("accuracy_by_source", {}).get(src, {}).get("accuracy")) for t in tests]))
    rows.append(("Grad-CAM mass inside the lungs", [_f(t.get("attention", {}).get("lung_share_mean"), "{:.2f}") for t in tests]))
    rows.append(("  same, for a map spread evenly over the input", [
        _f(t.get("attention", {}).get("lung_share_uniform_over_input_mean", t.get("attention", {}).get("lung_area_fraction_mean")), "{:.2f}")
        for t in tests]))
    rows.append(("Grad-CAM mass in the outer 10 % band", [_f(t.get("attention", {}).get("border_share_mean"), "{:.2f}") for t in tests]))
    rows.append(("Held-out films passing the OOD gate (test)", [
        _f(c.data.get("ood", {}).get("pass_rate", {}).get("test"), "{:.3f}") for c in cards]))
    cross = [c.metrics.get("cross_source", {}) for c in cards]
    if any(cross):
        rows.append(("Cross-source films", [_f(x.get("n"), "{}") for x in cross]))
        rows.append(("Cross-source macro ROC AUC", [_f(x.get("macro_auc")) for x in cross]))
        rows.append(("Cross-source accuracy", [_f(x.get("accuracy")) for x in cross]))
        for label in cards[0].labels:
            rows.append((f"Cross-source recall {label}", [_f(x.get("per_class", {}).get(label, {}).get("recall")) for x in cross]))
        for label in cards[0].labels:
            rows.append((f"Cross-source AUC {label}", [_f(x.get("per_class", {}).get(label, {}).get("auc")) for x in cross]))
        rows.append(("Cross-source expected calibration error", [_f(x.get("ece")) for x in cross]))
        rows.append(("Cross-source Grad-CAM mass inside the lungs", [
            _f(x.get("attention", {}).get("lung_share_mean"), "{:.2f}") for x in cross]))
        rows.append(("  same, for a map spread evenly over the input", [
            _f(x.get("attention", {}).get("expected_if_uniform_mean"), "{:.2f}") for x in cross]))
        rows.append(("Cross-source films passing the out-of-scope rules", [
            _f(x.get("pass_rate_out_of_scope_rules"), "{:.3f}") for x in cross]))
        rows.append(("Cross-source share called / right when called", [
            f"{x['calls']['coverage']:.1%} / {x['calls']['accuracy_when_called']:.1%}" if x.get("calls") else "—"
            for x in cross]))
    return rows


def comparison_markdown(cards) -> str:
    head = "| figure | " + " | ".join(f"{c.name} {c.version}" for c in cards) + " |"
    lines = [head, "|---|" + "---:|" * len(cards)]
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in comparison_rows(cards)]
    if len(cards) == 2:
        for which, what in (("test", "test images"), ("cross_source", "cross-source films")):
            d = paired_auc_difference(cards[0], cards[1], which=which)
            if d:
                lines += ["", f"Macro AUC difference ({cards[1].name} minus {cards[0].name}) on the same {d['n']} {what}: "
                          f"{d['difference']:+.3f}, 95 % paired bootstrap interval {d['ci95'][0]:+.3f} to {d['ci95'][1]:+.3f}."]
    return "\n".join(lines)


def write_comparison(cards) -> str:
    """Put the table into each card (``comparison_md``) and rewrite each ``card.md``; returns the table."""
    from cxviewer.model.card import save_card
    from cxviewer.training.evaluate import write_markdown

    table = comparison_markdown(cards)
    for card in cards:
        card.data["comparison_md"] = table
        save_card(card.directory, card.data)
        write_markdown(card.data, card.directory / "card.md")
    return table
