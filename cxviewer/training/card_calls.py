"""The card's "Calibration and calls" section: the temperature, the call rule as the card's ``Calibration``
states it, the share called and right when called on validation / held-out / cross-source films, and how
the calls' reliability moves with the threshold on validation (per class for per-class cards, one curve for
cards fitted before per-class thresholds)."""

from __future__ import annotations

from cxviewer.model.calibration import Calibration

CURVE_STEP = 0.06  # the card's per-class curve: one row every CURVE_STEP of threshold from the grid's start


def _pct(x) -> str:
    return "—" if x is None or x != x else f"{x:.1%}"


def _called_right(figures: dict | None, label: str) -> str:
    v = (figures or {}).get("per_class", {}).get(label)
    if not v:
        return "—"
    return f"{v['called']} / {_pct(v['precision'])}" if v["called"] else "0"


def calibration_section(card: dict) -> list[str]:
    cal = card.get("calibration")
    if not cal:
        return []
    c = cal["call"]
    labels = list(card["labels"])
    rule = Calibration.from_card(cal)
    test_calls = card.get("metrics", {}).get("test", {}).get("calls")
    cs_calls = card.get("metrics", {}).get("cross_source", {}).get("calls")
    lines = [
        "",
        "## Calibration and calls",
        "",
        f"- {cal['method']}, T = {cal['temperature']:.3f}, fitted on the {cal['fitted_on']}: validation NLL "
        f"{cal['validation_nll']['before']:.3f} -> {cal['validation_nll']['after']:.3f}.",
    ]
    if rule.per_class:
        lines.append(
            f"- Call rule, fitted on the validation patients only, {rule.describe(labels)}. A film is called "
            "its top class when that class's calibrated probability reaches the class's own threshold; otherwise "
            f"'uncertain'. Each threshold is the lowest at which the validation films called that class are truly it "
            f">= {c['target_accuracy_on_validation']:.0%} of the time over at least {c['min_calls_per_class']} calls; "
            "a class whose calls never get there is never called.")
    else:
        lines.append(
            f"- Call rule: {c['rule']}; {rule.describe(labels)}, chosen on validation for "
            f">= {c['target_accuracy_on_validation']:.0%} accuracy among called films with the widest coverage.")
    lines += [
        "",
        "| films | share called | right when called |",
        "|---|---:|---:|",
        f"| validation (fitted here) | {_pct(c['validation']['coverage'])} | {_pct(c['validation']['accuracy_when_called'])} |",
    ]
    if test_calls:
        lines.append(f"| held-out test patients | {_pct(test_calls['coverage'])} | {_pct(test_calls['accuracy_when_called'])} |")
    if cs_calls:
        lines.append(f"| cross-source | {_pct(cs_calls['coverage'])} | {_pct(cs_calls['accuracy_when_called'])} |")
    if rule.per_class:
        lines += _per_class_lines(cal, labels, rule, test_calls, cs_calls)
    else:
        lines += _single_curve_lines(cal)
    return lines


def _per_class_lines(cal: dict, labels, rule: Calibration, test_calls, cs_calls) -> list[str]:
    c = cal["call"]
    lines = ["", "Each class's calls (films called as the class / share truly that class):", "",
             "| class | threshold | validation (fitted here) | held-out test patients | cross-source |",
             "|---|---:|---:|---:|---:|"]
    for label, t in zip(labels, rule.thresholds(labels)):
        lines.append(f"| {label} | {'never called' if t != t else f'{t:.2f}'} | {_called_right(c['validation'], label)} | "
                     f"{_called_right(test_calls, label)} | {_called_right(cs_calls, label)} |")
    curves = cal.get("curve_validation", {}).get("per_class", {})
    by_t: dict[float, dict[str, tuple[int, float]]] = {}
    for label in labels:
        for t, n, precision in curves.get(label, []):
            by_t.setdefault(round(t, 2), {})[label] = (n, precision)
    if not by_t:
        return lines
    start = min(by_t)
    chosen = {lb: round(float(t), 2) for lb, t in zip(labels, rule.thresholds(labels)) if t == t}
    steps = sorted({t for t in by_t if round((t - start) / CURVE_STEP, 6) % 1 == 0} | (set(chosen.values()) & set(by_t)))
    lines += ["", f"Validation, each class's calls as its threshold rises (films called as the class / share truly it; "
              f"— below {c['min_calls_per_class']} calls; bold: the class's threshold):", "",
              "| threshold | " + " | ".join(labels) + " |", "|---:|" + "---:|" * len(labels)]
    for t in steps:
        cells = []
        for lb in labels:
            cell = f"{by_t[t][lb][0]} / {by_t[t][lb][1]:.1%}" if lb in by_t[t] else "—"
            cells.append(f"**{cell}**" if chosen.get(lb) == t else cell)
        lines.append(f"| {t:.2f} | " + " | ".join(cells) + " |")
    return lines


def _single_curve_lines(cal: dict) -> list[str]:
    rows = cal.get("curve_validation", {}).get("rows", [])
    if not rows:
        return []
    pick = rows[:: max(1, len(rows) // 8)]
    return ["", "Validation coverage / accuracy as the probability threshold rises (margin 0):", "",
            "| min probability | share called | right when called |", "|---:|---:|---:|"] + [
        f"| {t:.2f} | {cov:.1%} | {acc:.1%} |" for t, cov, acc in pick]
