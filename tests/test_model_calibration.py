"""Temperature scaling and the call rule (model/calibration.py, training/calibration_fit.py), and the cross-source figures' ECE."""

import json
from pathlib import Path

import numpy as np
import pytest

from cxviewer.model.calibration import UNCERTAIN, Calibration, calls, temper
from cxviewer.training.calibration_fit import (
    MIN_CALLS_PER_CLASS,
    PROBABILITY_GRID,
    call_figures,
    class_threshold,
    fit_calibration,
    fit_temperature,
    nll,
)
from cxviewer.training.cross_source import expected_calibration_error

BUNDLED_CARDS = [p for p in sorted((Path(__file__).resolve().parent.parent / "models").glob("*/card.json"))
                 if "calibration" in json.loads(p.read_text())]
OLD_RULE_CARDS = [p for p in BUNDLED_CARDS  # fitted before per-class thresholds: one float for every class
                  if not isinstance(json.loads(p.read_text())["calibration"]["call"]["min_probability"], dict)]


def overconfident(n=600, seed=0):
    """Labels and probabilities of a model right 70 % of the time that always says ~97 %."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    pred = np.where(rng.random(n) < 0.7, y, (y + rng.integers(1, 3, n)) % 3)
    probs = np.full((n, 3), 0.015)
    probs[np.arange(n), pred] = 0.97
    return y, probs


def test_temper_keeps_the_ranking_and_sums_to_one():
    p = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]])
    for t in (0.5, 1.0, 3.0):
        q = temper(p, t)
        np.testing.assert_allclose(q.sum(axis=1), 1.0)
        assert (q.argmax(axis=1) == p.argmax(axis=1)).all()
    np.testing.assert_allclose(temper(p, 1.0), p, atol=1e-12)
    assert temper(p, 3.0)[0].max() < 0.6 < temper(p, 0.5)[0].max()


def test_fitted_temperature_softens_an_overconfident_model_and_lowers_its_nll():
    y, p = overconfident()
    t = fit_temperature(y, p)
    assert t > 1.5
    assert nll(y, temper(p, t)) < nll(y, p) - 0.3
    # Calibrated confidence lands near the real accuracy (0.7), and the ECE falls.
    assert abs(temper(p, t).max(axis=1).mean() - 0.7) < 0.05
    assert expected_calibration_error(y, temper(p, t)) < 0.05 < expected_calibration_error(y, p)


def test_ece_is_zero_for_a_perfectly_calibrated_bin_and_the_gap_otherwise():
    y = np.array([0, 0, 0, 1])
    p = np.array([[0.75, 0.25, 0.0]] * 4)  # says 75 %, right 3 of 4
    assert expected_calibration_error(y, p) == pytest.approx(0.0)
    assert expected_calibration_error(np.array([1, 1, 1, 1]), p) == pytest.approx(0.75)


def test_calls_mark_low_probability_or_low_margin_films_uncertain():
    p = np.array([[0.9, 0.05, 0.05], [0.5, 0.45, 0.05], [0.38, 0.34, 0.28]])
    np.testing.assert_array_equal(calls(p, 0.45, 0.0), [0, 0, -1])
    np.testing.assert_array_equal(calls(p, 0.45, 0.1), [0, -1, -1])
    cal = Calibration(1.0, 0.45, 0.1)
    assert cal.call(("covid", "pneumonia", "normal"), p[0]) == "covid"
    assert cal.call(("covid", "pneumonia", "normal"), p[2]) == UNCERTAIN


LABELS = ("covid", "pneumonia", "normal")


def test_per_class_thresholds_are_applied_by_the_top_class_and_a_null_class_is_never_called():
    cal = Calibration(1.0, {"covid": 0.5, "pneumonia": None, "normal": 0.8}, 0.0)
    p = np.array([
        [0.60, 0.30, 0.10],  # covid 0.60 >= 0.50: called
        [0.005, 0.99, 0.005],  # pneumonia has no threshold: uncertain however sure
        [0.10, 0.20, 0.70],  # normal 0.70 < 0.80: uncertain (it would pass covid's 0.50)
        [0.05, 0.10, 0.85],  # normal 0.85 >= 0.80: called
        [0.45, 0.40, 0.15],  # covid 0.45 < 0.50: uncertain
    ])
    np.testing.assert_array_equal(cal.calls(LABELS, p), [0, -1, -1, 2, -1])
    assert [cal.call(LABELS, row) for row in p] == ["covid", UNCERTAIN, UNCERTAIN, "normal", UNCERTAIN]
    # the same rule from the module function, thresholds in column order (NaN: never called)
    np.testing.assert_array_equal(calls(p, [0.5, np.nan, 0.8], 0.0), [0, -1, -1, 2, -1])
    # the margin still applies to every class
    np.testing.assert_array_equal(Calibration(1.0, {"covid": 0.5, "pneumonia": None, "normal": 0.8}, 0.35).calls(LABELS, p),
                                  [-1, -1, -1, 2, -1])
    assert cal.describe(LABELS) == "per class: covid >= 0.50, pneumonia never called, normal >= 0.80"
    with pytest.raises(ValueError, match="normal"):
        Calibration(1.0, {"covid": 0.5, "pneumonia": 0.5}, 0.0).calls(LABELS, p)


def test_a_per_class_card_entry_loads_with_null_as_never_called():
    entry = json.loads('{"temperature": 1.5, "call": {"min_probability": {"covid": 0.41, "pneumonia": null, '
                       '"normal": 0.62}, "min_margin": 0.0}}')
    cal = Calibration.from_card(entry)
    assert cal.per_class and cal.temperature == 1.5
    t = cal.thresholds(LABELS)
    assert t[0] == pytest.approx(0.41) and np.isnan(t[1]) and t[2] == pytest.approx(0.62)
    assert cal.call(LABELS, [0.2, 0.7, 0.1]) == UNCERTAIN and cal.call(LABELS, [0.2, 0.1, 0.7]) == "normal"


def test_an_old_card_with_one_threshold_calls_exactly_as_before():
    """Cards fitted before per-class thresholds (a float min_probability): the one threshold for every class
    and the margin, as the single rule did; the bundled v2 card is such a card (v3 has per-class thresholds)."""
    assert [p.parent.name for p in OLD_RULE_CARDS] == ["cxnet-densenet121-lungcrop"]
    rng = np.random.default_rng(3)
    p = rng.dirichlet((1.0, 1.0, 1.0), 2000)
    for entry in ({"temperature": 1.2, "call": {"min_probability": 0.6, "min_margin": 0.1}},
                  *(json.loads(path.read_text())["calibration"] for path in OLD_RULE_CARDS)):
        cal = Calibration.from_card(entry)
        t, m = entry["call"]["min_probability"], entry["call"]["min_margin"]
        assert not cal.per_class and isinstance(t, float)
        top2 = np.sort(p, axis=1)[:, -2:]
        before = np.where((top2[:, 1] >= t) & (top2[:, 1] - top2[:, 0] >= m), p.argmax(axis=1), -1)
        assert 0 < (before >= 0).sum() < len(p)
        np.testing.assert_array_equal(cal.calls(LABELS, p), before)
        assert [cal.call(LABELS, row) for row in p[:50]] == [LABELS[i] if i >= 0 else UNCERTAIN for i in before[:50]]
        assert cal.describe(LABELS) == f"min_probability {t:.2f}, min_margin {m:.2f}"


def one_reliable_class_one_not(per_class=120):
    """Validation films by their top class: covid calls right 97 % at any probability; pneumonia calls right
    half the time at any probability; normal calls always right at >= 0.7 and half the time below."""
    y, top, conf = [], [], []
    grid = np.linspace(0.40, 0.95, per_class)
    for i, c in enumerate(grid):
        y.append(0 if i % 33 else 2)  # covid: 4 wrong of 120
        y.append(1 if i % 2 else 0)  # pneumonia: half wrong
        y.append(2 if c >= 0.7 or i % 2 else 1)  # normal: reliable only when sure
        top += [0, 1, 2]
        conf += [c, c, c]
    y, top, conf = np.array(y), np.array(top), np.array(conf)
    p = np.zeros((len(y), 3))
    p[np.arange(len(y)), top] = conf
    p[np.arange(len(y)), (top + 1) % 3] = (1 - conf) * 0.6
    p[np.arange(len(y)), (top + 2) % 3] = (1 - conf) * 0.4
    return y, p


def precision_of(y, p, k, t):
    sel = (p.argmax(axis=1) == k) & (p.max(axis=1) >= t)
    return sel.sum(), (y[sel] == k).mean()


def test_each_class_gets_the_lowest_threshold_its_own_calls_justify_and_an_unreliable_class_none():
    y, p = one_reliable_class_one_not()
    t_covid, curve_covid = class_threshold(y, p, 0, 0.85)
    t_pneu, curve_pneu = class_threshold(y, p, 1, 0.85)
    t_normal, curve_normal = class_threshold(y, p, 2, 0.85)
    assert t_covid == PROBABILITY_GRID[0]  # right 97 % from the bottom of the grid
    assert t_pneu is None  # half right at every threshold: never called
    # normal: precision over all its calls above t reaches 85 % somewhat below 0.7 (the sure calls carry it)
    assert 0.55 <= t_normal < 0.7
    n, prec = precision_of(y, p, 2, t_normal)
    assert n >= MIN_CALLS_PER_CLASS and prec >= 0.85
    n, prec = precision_of(y, p, 2, round(t_normal - 0.01, 2))
    assert prec < 0.85  # one step lower misses the target
    # the curve: films called as the class fall as t rises, down to the minimum number of calls
    for curve in (curve_covid, curve_pneu, curve_normal):
        counts = [row[1] for row in curve]
        assert counts == sorted(counts, reverse=True) and counts[-1] >= MIN_CALLS_PER_CLASS
    assert max(row[2] for row in curve_pneu) < 0.85


def test_fitted_entry_gives_each_class_its_target_precision_on_validation():
    y, p = one_reliable_class_one_not()
    entry = json.loads(json.dumps(fit_calibration(y, p, 0.85, LABELS)))  # as the card stores it
    c = entry["call"]
    assert c["min_probability"]["pneumonia"] is None and c["min_margin"] == 0.0
    assert c["min_calls_per_class"] == MIN_CALLS_PER_CLASS and "per class" in c["rule"]
    cal = Calibration.from_card(entry)
    calibrated = temper(p, entry["temperature"])
    called = cal.calls(LABELS, calibrated)
    assert not (called == 1).any()
    v = c["validation"]
    assert v["per_class"]["pneumonia"] == {"called": 0, "precision": None}
    for k, label in ((0, "covid"), (2, "normal")):
        assert v["per_class"][label]["called"] == (called == k).sum() >= MIN_CALLS_PER_CLASS
        assert v["per_class"][label]["precision"] == pytest.approx((y[called == k] == k).mean())
        assert v["per_class"][label]["precision"] >= 0.85
    assert v["called"] == (called >= 0).sum() and v["coverage"] == pytest.approx((called >= 0).mean())
    assert v["accuracy_when_called"] == pytest.approx((called[called >= 0] == y[called >= 0]).mean())
    # the single rule this replaced: the pneumonia calls kept it from reaching 85 % at any coverage this wide
    single = call_figures(y, calls(calibrated, min(cal.thresholds(LABELS)[[0, 2]]), 0.0))
    assert single["accuracy_when_called"] < 0.85 < v["accuracy_when_called"]
    curves = entry["curve_validation"]["per_class"]
    assert set(curves) == set(LABELS) and entry["curve_validation"]["columns"] == ["min_probability", "called_as_class",
                                                                                   "precision"]


def test_card_text_states_the_per_class_rule_and_its_curve():
    from cxviewer.training.card_calls import calibration_section

    y, p = one_reliable_class_one_not()
    entry = fit_calibration(y, p, 0.85, LABELS)
    card = {"labels": list(LABELS), "calibration": entry,
            "metrics": {"test": {"calls": call_figures(y, Calibration.from_card(entry).calls(LABELS, p), LABELS)}}}
    text = "\n".join(calibration_section(card))
    assert "fitted on the validation patients only, per class: covid >= " in text
    assert "pneumonia never called" in text and "| pneumonia | never called |" in text
    t_covid = entry["call"]["min_probability"]["covid"]
    assert f"covid >= {t_covid:.2f}" in text
    curve_rows = [line for line in text.splitlines() if line.startswith("| 0.")]
    firsts = [line.split(" | ")[0] for line in curve_rows]
    assert firsts[:2] == ["| 0.50", "| 0.56"] and "| 0.62" in firsts  # from even odds: no call below 0.50
    # the rows every 0.06, plus each class's own threshold, its cell in bold: normal's 0.57 lies between 0.56 and 0.62
    t_normal = entry["call"]["min_probability"]["normal"]
    assert round((t_normal - 0.50) / 0.06, 6) % 1 != 0
    cells = next(line for line in curve_rows if line.startswith(f"| {t_normal:.2f} |")).split(" | ")
    assert cells[3].startswith("**") and not cells[1].startswith("**")  # normal's threshold, not covid's
    assert curve_rows[0].split(" | ")[1].startswith("**")  # covid's threshold is the grid's first value

    assert "Validation coverage / accuracy as the probability threshold rises" not in text  # the old single curve


NAMES = {"covid": "COVID-19", "pneumonia": "Other pneumonia", "normal": "Normal"}


def test_why_no_call_names_the_reason_each_uncertain_film_got_and_nothing_for_a_called_one():
    """The reason matches the rule that failed: the top class is never called, it is below its own threshold,
    or its lead is too narrow; a card's target precision is quoted; a called film gets no reason."""
    cal = Calibration(1.0, {"covid": 0.62, "pneumonia": 0.40, "normal": None}, 0.10, 0.85)
    why = lambda p: cal.why_no_call(LABELS, p, display=NAMES.get)  # noqa: E731
    assert cal.call(LABELS, [0.005, 0.005, 0.99]) == UNCERTAIN
    assert why([0.005, 0.005, 0.99]) == ("the model never calls Normal (the top class here, at 99 %); on the validation "
                                         "patients its Normal calls were right less than 85 % of the time")
    assert why([0.48, 0.30, 0.22]) == ("COVID-19 is at 48 % here; the model calls COVID-19 only from 62 % (where its "
                                       "COVID-19 calls were right at least 85 % of the time on validation)")
    assert why([0.615, 0.2, 0.185]).startswith("COVID-19 is at 61.5 % here; the model calls COVID-19 only from 62.0 %")
    assert cal.call(LABELS, [0.40, 0.45, 0.15]) == UNCERTAIN  # reaches 0.40 but leads by 5 points only
    assert why([0.40, 0.45, 0.15]) == ("Other pneumonia (45 %) leads COVID-19 (40 %) by 5 points; the model calls "
                                       "only with a lead of at least 10 points")
    assert cal.call(LABELS, [0.70, 0.25, 0.05]) == "covid" and why([0.70, 0.25, 0.05]) == ""


def test_why_no_call_on_an_old_card_keeps_the_generic_sentence_and_a_card_without_target_quotes_none():
    from cxviewer.no_call import GENERIC_NO_CALL

    old = Calibration.from_card({"temperature": 1.0, "call": {"min_probability": 0.75, "min_margin": 0.1,
                                                              "target_accuracy_on_validation": 0.85}})
    assert old.target_precision == 0.85 and not old.per_class
    assert old.why_no_call(LABELS, [0.5, 0.3, 0.2]) == GENERIC_NO_CALL == "no class is likely enough for the model to make a call"
    narrow = Calibration(1.0, 0.40, 0.10)  # an old card whose margin, not its threshold, keeps the call
    assert narrow.call(LABELS, [0.45, 0.40, 0.15]) == UNCERTAIN
    assert narrow.why_no_call(LABELS, [0.45, 0.40, 0.15]) == ("covid (45 %) leads pneumonia (40 %) by 5 points; the model "
                                                              "calls only with a lead of at least 10 points")
    assert old.why_no_call(LABELS, [0.80, 0.15, 0.05]) == ""
    bare = Calibration.from_card({"temperature": 1.0, "call": {"min_probability": {"covid": 0.5, "pneumonia": None,
                                                                                   "normal": 0.5}}})
    assert bare.target_precision is None
    assert bare.why_no_call(LABELS, [0.1, 0.8, 0.1]).endswith("its pneumonia calls were not right often enough")
    assert bare.why_no_call(LABELS, [0.45, 0.3, 0.25]) == "covid is at 45 % here; the model calls covid only from 50 %"


def test_no_call_below_even_odds_even_for_a_class_always_right_on_validation():
    """On validation a class can be right at any probability (each class from its own source there); its
    threshold still starts at 0.50, so a film led by that class at 40 % is uncertain, not a call."""
    y, p = one_reliable_class_one_not()
    entry = fit_calibration(y, p, 0.85, LABELS)
    cal = Calibration.from_card(entry)
    assert entry["call"]["min_probability"]["covid"] == pytest.approx(0.50)
    assert cal.call(LABELS, [0.40, 0.37, 0.23]) == UNCERTAIN and cal.call(LABELS, [0.55, 0.30, 0.15]) == "covid"
