"""The held-out and cross-source figures of a model card as the report shows them (Qt-free): found in
the card's metrics, never invented.
"""

from __future__ import annotations

from typing import Any

from cxviewer.class_names import display_name


def card_summary(card: Any) -> list[tuple[str, str]]:
    """Held-out figures from a model card (ModelCard or its JSON dict) as (label, value) rows.

    The card's ``metrics`` are searched for the held-out (test) block: accuracy, macro AUC, per-class
    recall, and any Grad-CAM lung share. Missing figures are left out, never invented.
    """
    data = getattr(card, "data", card) or {}
    if not isinstance(data, dict):
        return []
    rows: list[tuple[str, str]] = []
    names = data.get("display_names") if isinstance(data.get("display_names"), dict) else None  # as the AI table
    arch = data.get("architecture_text") or data.get("architecture")
    if isinstance(arch, str) and arch:
        rows.append(("Architecture", arch))
    size = data.get("input", {}).get("size") if isinstance(data.get("input"), dict) else None
    if size:
        rows.append(("Input size", f"{size} x {size}"))
    crop = data.get("input", {}).get("crop") if isinstance(data.get("input"), dict) else None
    if isinstance(crop, dict) and crop.get("segmentation_model"):
        rows.append(("Input region", f"lung fields only (crop from {crop['segmentation_model']}; whole film if no lungs are found)"))
    elif size:
        rows.append(("Input region", "the whole film"))
    metrics = data.get("metrics", {})
    held = _find_held_out(metrics) if isinstance(metrics, dict) else None
    if held:
        if isinstance(held.get("n"), (int, float)):
            rows.append(("Held-out images", f"{int(held['n'])}"))
        for key, label in (("accuracy", "Accuracy"), ("balanced_accuracy", "Balanced accuracy"),
                           ("macro_auc", "Macro ROC AUC")):
            if _is_number(held.get(key)):
                rows.append((label, _fmt_metric(held[key])))
        per_class = held.get("per_class")
        if isinstance(per_class, dict):
            for name, vals in per_class.items():
                if isinstance(vals, dict) and _is_number(vals.get("recall")):
                    extra = f", AUC {_fmt_metric(vals['auc'])}" if _is_number(vals.get("auc")) else ""
                    rows.append((f"Recall {display_name(name, names)}", _fmt_metric(vals["recall"]) + extra))
        att = held.get("attention")
        if isinstance(att, dict):
            if _is_number(att.get("lung_share_mean")):
                area = (f" (lungs cover {att['lung_area_fraction_mean']:.0%} of those images)"
                        if _is_number(att.get("lung_area_fraction_mean")) else "")
                if _is_number(att.get("lung_share_uniform_over_input_mean")) and crop:
                    area += f"; {att['lung_share_uniform_over_input_mean']:.0%} of the crop the model saw"
                rows.append(("Grad-CAM mass inside lungs", f"{att['lung_share_mean']:.0%}{area}"))
            if _is_number(att.get("border_share_mean")):
                area = (f" (band is {att['border_area_fraction']:.0%} of the image)"
                        if _is_number(att.get("border_area_fraction")) else "")
                rows.append(("Grad-CAM mass in border band", f"{att['border_share_mean']:.0%}{area}"))
    cross = metrics.get("cross_source") if isinstance(metrics, dict) else None
    if isinstance(cross, dict):
        rows += _cross_source_rows(cross, names)
    if not any(label.startswith("Grad-CAM") for label, _ in rows):
        for path, value in _walk_numbers(metrics if isinstance(metrics, dict) else {}):
            if "lung" in path.lower() and "share" in path.lower():
                rows.append(("Grad-CAM mass inside lungs", _fmt_metric(value, percent=True)))
                break
    return rows


def _cross_source_rows(cross: dict, names: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The card's cross-source validation (films from hospitals the model never saw) in three rows: what
    the reader most needs to weigh an opinion on a film from their own hospital."""
    rows: list[tuple[str, str]] = []
    if isinstance(cross.get("n"), (int, float)):
        rows.append(("Other hospitals' films (never trained on)", f"{int(cross['n'])}"))
    if _is_number(cross.get("macro_auc")):
        rows.append(("Macro ROC AUC there", _fmt_metric(cross["macro_auc"])))
    per_class = cross.get("per_class")
    if isinstance(per_class, dict):
        recalls = [f"{display_name(name, names)} {_fmt_metric(v['recall'])}" for name, v in per_class.items()
                   if isinstance(v, dict) and _is_number(v.get("recall"))]
        if recalls:
            rows.append(("Recall there", ", ".join(recalls)))
    return rows


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _find_held_out(metrics: dict) -> dict | None:
    for key in ("test", "held_out", "heldout", "holdout", "evaluation"):
        if isinstance(metrics.get(key), dict):
            inner = metrics[key]
            return _find_held_out(inner) if "accuracy" not in inner and "macro_auc" not in inner else inner
    if "accuracy" in metrics or "macro_auc" in metrics:
        return metrics
    for value in metrics.values():
        if isinstance(value, dict):
            found = _find_held_out(value)
            if found:
                return found
    return None


def _walk_numbers(d: dict, prefix: str = ""):
    for k, v in d.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            yield from _walk_numbers(v, path)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield path, float(v)


def _fmt_metric(value: float, percent: bool = False) -> str:
    if value != value:  # NaN
        return "n/a"
    if percent and 0 <= value <= 1:
        return f"{value:.0%}"
    return f"{value:.3f}"
