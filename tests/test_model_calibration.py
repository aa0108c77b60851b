"""Temperature scaling and the call rule (model/calibration.py, training/calibration_fit.py), and the cross-source figures' ECE."""

import numpy as np
import pytest

from cxviewer.model.calibration import UNCERTAIN, Calibration, calls, temper
from cxviewer.training.calibration_fit import call_figures, choose_thresholds, fit_calibration, fit_temperature, nll
from cxviewer.training.cross_source import expected_calibration_error


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


def test_thresholds_reach_the_target_accuracy_with_the_widest_coverage():
    rng = np.random.default_rng(1)
    n = 800
    y = rng.integers(0, 3, n)
    conf = rng.uniform(0.34, 0.99, n)
    right = rng.random(n) < conf  # a calibrated model: right as often as it says
    pred = np.where(right, y, (y + 1) % 3)
    p = np.zeros((n, 3))
    p[np.arange(n), pred] = conf
    p[np.arange(n), (pred + 1) % 3] = (1 - conf) * 0.6
    p[np.arange(n), (pred + 2) % 3] = (1 - conf) * 0.4
    t, m, curve = choose_thresholds(y, p, 0.85)
    f = call_figures(y, p, t, m)
    assert f["accuracy_when_called"] >= 0.85
    # Lowering the probability threshold one step (same margin) would miss the target or call no more films.
    looser = call_figures(y, p, round(t - 0.01, 2), m)
    assert looser["accuracy_when_called"] < 0.85 or looser["coverage"] <= f["coverage"]
    assert curve and all(0 <= cov <= 1 for _, cov, _ in curve)
    entry = fit_calibration(y, p, 0.85)
    assert entry["call"]["validation"]["accuracy_when_called"] >= 0.85
    assert Calibration.from_card(entry).temperature == pytest.approx(entry["temperature"])
