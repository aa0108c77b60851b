"""Cross-source validation: a loaded classifier on labelled films from hospitals the training set never saw.

This is where a model that learned a source's "look" instead of the lungs shows itself (figures on
held-out patients of the training sources overstate real performance). The folder is only predicted,
never trained or fitted on. Everything goes through the app's own inference path (crop, Grad-CAM).

Reported: the classification figures (macro and per-class AUC, recall, confusion matrix), accuracy per
source, expected calibration error, how many films the out-of-scope rules let through, and where Grad-CAM
puts its mass relative to the lung segmenter's mask (against the share a map spread evenly over what the
model saw would give).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from cxviewer.model.attention import lung_attention
from cxviewer.training.dataset import read_manifest
from cxviewer.training.metrics import classification_report

PREDICTIONS_FILE = "cross_source_predictions.csv"
ECE_BINS = 10


def expected_calibration_error(y: np.ndarray, probs: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE: |accuracy - mean confidence| over equal-width confidence bins, weighted by bin size."""
    conf = probs.max(axis=1)
    hit = (probs.argmax(axis=1) == np.asarray(y)).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.sum() / len(conf) * abs(hit[sel].mean() - conf[sel].mean())
    return float(total)


def attention_summary(pairs: list[tuple[float, float]]) -> dict:
    shares = [s for s, _ in pairs if not np.isnan(s)]
    return {
        "lung_share_mean": float(np.mean(shares)) if shares else None,
        "lung_share_median": float(np.median(shares)) if shares else None,
        "expected_if_uniform_mean": float(np.mean([e for _, e in pairs])) if pairs else None,
        "images": len(shares),
        "masks": "the bundled lung segmenter's masks",
    }


def write_predictions(path: Path, rows: list[tuple[str, str, str, np.ndarray]], labels) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "label", "source"] + [f"p_{k}" for k in labels])
        for image, label, source, p in rows:
            w.writerow([image, label, source] + [f"{float(v):.6f}" for v in p])


def evaluate_folder(clf, folder: str | Path, log=print, predictions_path: Path | None = None) -> dict:
    """Figures of ``clf`` on a labelled folder (``manifest.csv`` layout) of films from other sources."""
    from cxviewer.training.train import load_grey

    labels = list(clf.labels)
    samples = read_manifest(folder, tuple(labels))
    probs, y, rows, attention, scoped = [], [], [], [], []
    for i, s in enumerate(samples):
        pred = clf.predict(load_grey(s.path), gradcam=True, outline=True)
        p = np.asarray(pred.probabilities, dtype=np.float64)
        probs.append(p)
        y.append(labels.index(s.label))
        rows.append((f"{s.path.parent.name}/{s.path.name}", s.label, s.source, p))
        scoped.append(pred.in_scope)
        att = lung_attention(pred)
        if att is not None:
            attention.append(att)
        if (i + 1) % 50 == 0:
            log(f"cross-source: {i + 1}/{len(samples)}")
    probs_a, y_a = np.stack(probs), np.array(y)
    if predictions_path is not None:
        write_predictions(predictions_path, rows, labels)
    report = classification_report(y_a, probs_a, tuple(labels))
    report["accuracy_by_source"] = {
        src: {"n": int(sum(1 for r in rows if r[2] == src)),
              "accuracy": float(np.mean([probs_a[i].argmax() == y_a[i] for i, r in enumerate(rows) if r[2] == src]))}
        for src in sorted({r[2] for r in rows})
    }
    report["ece"] = expected_calibration_error(y_a, probs_a)
    if clf.calibration is not None:
        from cxviewer.training.calibration_fit import call_figures

        report["calls"] = call_figures(y_a, clf.calibration.calls(labels, probs_a), labels)
    report["pass_rate_out_of_scope_rules"] = float(np.mean(scoped))
    report["attention"] = attention_summary(attention)
    report["folder"] = Path(folder).name
    report["predictions_file"] = PREDICTIONS_FILE if predictions_path is not None else None
    report["note"] = ("never trained or fitted on (no thresholds, calibration or statistics); used only to compare "
                      "models and to choose a checkpoint")
    return report


def markdown_section(cs: dict, labels) -> list[str]:
    """The card's "cross-source validation" section."""
    pc = cs["per_class"]
    att = cs.get("attention", {})
    lines = [
        f"## Cross-source validation ({cs.get('folder', 'other sources')}, n = {cs['n']})",
        "",
        f"Films from hospitals and sources absent from training: {cs['note']}. Probabilities as the app shows them "
        "(calibrated where the card has a calibration).",
        "",
        f"- Macro ROC AUC {cs['macro_auc']:.3f}; accuracy {cs['accuracy']:.3f}; balanced accuracy "
        f"{cs['balanced_accuracy']:.3f}; expected calibration error {cs['ece']:.3f}.",
        "",
        "| class | recall | precision | AUC | n |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in labels:
        v = pc[name]
        prec = "—" if np.isnan(v["precision"]) else f"{v['precision']:.3f}"
        lines.append(f"| {name} | {v['recall']:.3f} | {prec} | {v['auc']:.3f} | {v['n']} |")
    lines += ["", "| source | n | accuracy |", "|---|---:|---:|"]
    lines += [f"| {src} | {v['n']} | {v['accuracy']:.3f} |" for src, v in cs["accuracy_by_source"].items()]
    cm = cs["confusion_matrix"]
    lines += ["", "Confusion matrix (rows true, columns predicted: " + ", ".join(cm["labels"]) + "):", ""]
    lines += ["    " + "  ".join(f"{c:4d}" for c in row) for row in cm["rows_true_cols_predicted"]]
    if att.get("lung_share_mean") is not None:
        lines += ["", f"- Grad-CAM mass inside the lungs ({att['masks']}): {att['lung_share_mean']:.2f} on average "
                  f"(median {att['lung_share_median']:.2f}, n = {att['images']}); a map spread evenly over what the "
                  f"model saw would put {att['expected_if_uniform_mean']:.2f} there."]
    lines.append(f"- Films passing the out-of-scope rules: {cs['pass_rate_out_of_scope_rules']:.3f}.")
    if cs.get("calls"):
        c = cs["calls"]
        lines.append(f"- Calls (not 'uncertain'): {c['coverage']:.1%} of films, right {c['accuracy_when_called']:.1%} of the time.")
    if cs.get("paired_difference_md"):
        lines += ["", cs["paired_difference_md"]]
    return lines
