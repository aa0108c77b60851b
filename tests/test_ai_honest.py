"""The AI, honest: calibrated probabilities and calls from the bundled model on real films, in the panel,
`predict --json`, the report block; new films open without overlays; out-of-scope results shown on request."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cxviewer.class_names import display_name
from cxviewer.model import available_models

pytestmark = pytest.mark.skipif(not available_models(), reason="no bundled model in models/")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clf():
    from cxviewer.model import load_classifier

    model = load_classifier()
    if model.calibration is None:
        pytest.skip("the default model's card has no calibration")
    return model


@pytest.fixture(scope="module")
def films(shared_dir):
    """Twelve held-out-source training films (3 labels x 4) as 8-bit grey images."""
    import cv2

    out = []
    for label in ("covid", "pneumonia", "normal"):
        for path in sorted((shared_dir / "data/cxr/images" / label).glob("*.jpg"))[:4]:
            out.append((path, cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)))
    return out


@pytest.fixture(scope="module")
def predictions(clf, films):
    return [clf.predict(img, gradcam=True, outline=True) for _, img in films]


def test_probabilities_are_the_cards_temperature_applied_to_the_network_output(clf, films):
    from cxviewer.model.calibration import temper

    img = films[0][1]
    calibrated = clf.predict(img, gradcam=False)
    saved, clf.calibration = clf.calibration, None
    try:
        raw = clf.predict(img, gradcam=False)
    finally:
        clf.calibration = saved
    assert calibrated.calibrated and not raw.calibrated
    expected = temper(np.array(raw.probabilities)[None], clf.calibration.temperature)[0]
    np.testing.assert_allclose(calibrated.probabilities, expected, atol=1e-6)
    assert clf.calibration.temperature == pytest.approx(clf.card.data["calibration"]["temperature"])


def test_every_film_gets_a_call_by_the_cards_thresholds(clf, predictions):
    thresholds = clf.calibration.thresholds(clf.labels)  # the card's, per class (older cards: one for all)
    calls = set()
    for pred in predictions:
        # the call is the card's rule applied to the probabilities the reader sees (calibrated), not to raw ones
        assert pred.call == clf.calibration.call(clf.labels, pred.probabilities)
        if pred.call != "uncertain":
            assert pred.call == pred.label and pred.confidence >= thresholds[clf.labels.index(pred.label)]
        calls.add(pred.call == "uncertain")
        att = pred.attention_in_lungs
        assert att is not None and 0 <= att["share"] <= 1 and 0 < att["expected_if_uniform"] <= 1
    assert calls == {True, False}, "expected both called and uncertain films among twelve real films"


def test_a_per_class_rule_calls_through_the_classifier_and_its_json(clf, films):
    """A card with per-class thresholds: the film's top class called at a threshold it reaches, 'uncertain'
    when that class is never called (null) even though the other classes' thresholds are low."""
    from cxviewer.model.calibration import Calibration

    img = films[0][1]
    saved = clf.calibration
    try:
        top = clf.predict(img, gradcam=False).label
        low = {label: 0.34 for label in clf.labels}
        clf.calibration = Calibration(saved.temperature, {**low, top: None}, 0.0)
        never = clf.predict(img, gradcam=False)
        clf.calibration = Calibration(saved.temperature, {**low, top: 0.34}, 0.0)
        called = clf.predict(img, gradcam=False)
    finally:
        clf.calibration = saved
    assert never.in_scope and called.in_scope
    assert never.call == "uncertain" and never.as_dict()["call"] == "uncertain"
    out = called.as_dict()  # what `predict --json` prints
    assert called.call == top and out["call"] == top and out["calibrated"] is True
    assert out["confidence"] == pytest.approx(out["probabilities"][top], abs=1e-6) and out["confidence"] >= 0.34


def test_panel_shows_no_bold_class_for_an_uncertain_film_and_figures_beside_the_bars(qtbot, predictions):
    from cxviewer.ui.ai.panel import AIPanel

    panel = AIPanel()
    qtbot.addWidget(panel)
    uncertain = next(p for p in predictions if p.call == "uncertain")
    called = next(p for p in predictions if p.call not in ("uncertain", None))

    panel.show_prediction(uncertain)
    text = panel.leading.text()
    assert text.startswith("Uncertain: ") and not panel.leading.font().bold()
    ranked = sorted(zip(uncertain.labels, uncertain.probabilities), key=lambda lp: -lp[1])
    assert f"{ranked[0][1] * 100:.0f} %" in text and f"{ranked[2][1] * 100:.0f} %" in text
    if "covid" in dict(ranked[1:]):  # inside the sentence an acronym keeps its capitals
        assert "COVID-19" in text and "covid-19" not in text
    for label, p in zip(uncertain.labels, uncertain.probabilities):
        assert not panel.bars[label].isTextVisible()  # no figure printed across the bar's edge
        assert panel.figures[label].text() == f"{p * 100:.1f} %"
    assert "falls on the lungs" in panel.attention.text() and "an even map would put" in panel.attention.text()
    assert "cannot report nodules" in panel.scope.text()

    panel.show_prediction(called)
    assert panel.leading.font().bold()
    assert panel.leading.text().endswith(f"{called.confidence * 100:.0f} %")
    assert panel.legend.pixmap() is not None and not panel.legend.pixmap().isNull()


def test_out_of_scope_film_can_be_shown_anyway_but_a_header_refusal_cannot(qtbot, clf, predictions):
    from cxviewer.ui.ai.panel import AIPanel

    panel = AIPanel()
    qtbot.addWidget(panel)
    panel.show()
    refused = dataclasses.replace(predictions[0], scope_reason="this looks like an upside-down film (the film check)")
    panel.show_out_of_scope(refused)
    assert panel.anyway.isVisible() and panel.figures["covid"].text() == "—"
    panel.anyway.click()
    assert "shown at the reader's request" in panel.status.text()
    assert panel.leading.text() == "Out of scope, shown anyway"
    assert panel.figures[refused.labels[0]].text() == f"{refused.probabilities[0] * 100:.1f} %"

    header = clf.refuse("a CT image, not a radiograph")
    panel.show_out_of_scope(header)
    assert not panel.anyway.isVisible()


def test_report_block_carries_the_call_attention_and_scope(predictions):
    from cxviewer.report.ai_block import MODEL_SCOPE, AIBlock

    pred = next(p for p in predictions if p.call == "uncertain")
    block = AIBlock.from_prediction(pred)
    data = block.to_dict()
    assert data["call"] == "uncertain" and data["model_scope"] == MODEL_SCOPE
    assert data["attention_in_lungs"] == pred.attention_in_lungs
    assert "uncertain" in block.summary()
    again = AIBlock.from_dict(json.loads(json.dumps(data)))
    assert again.call == "uncertain" and again.attention_in_lungs == pred.attention_in_lungs


def test_predict_json_has_call_confidence_and_attention(dicom_dir):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "cxviewer", "predict", str(dicom_dir / "CR-MONO1-10-chest.dcm"),
                           "--json", "--gradcam"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["calibrated"] is True
    assert out["call"] in (*out["probabilities"], "uncertain")
    assert out["confidence"] == pytest.approx(max(out["probabilities"].values()), abs=1e-6)
    # why no call, for an uncertain film (None when the film is called): an added key, the others stand
    assert "call_note" in out and (out["call_note"] is None) == (out["call"] != "uncertain")
    assert out["call_note"] is None or isinstance(out["call_note"], str) and out["call_note"]
    assert 0 <= out["attention_in_lungs"]["share"] <= 1 and 0 < out["attention_in_lungs"]["expected_if_uniform"] <= 1


def test_new_films_open_without_overlays_unless_the_reader_asks_for_it(qtbot, dicom_dir):
    from cxviewer.ui.ai.controller import install_ai_panel
    from cxviewer.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    ai = install_ai_panel(window)
    window.show()
    qtbot.waitExposed(window)
    first, second = dicom_dir / "CR-MONO1-10-chest.dcm", dicom_dir / "RG1_UNCR.dcm"
    try:
        with qtbot.waitSignal(ai.service.result, timeout=600_000):
            window.open_paths([str(first)])
        assert not ai.panel.overlay_box.isChecked()
        ai.panel.overlay_box.setChecked(True)  # the reader turns the map on for this film
        assert ai.overlay.visible
        ai.reanalyse()  # the same film again: the reader's choice stands
        assert ai.panel.overlay_box.isChecked()
        window.open_paths([str(second)])
        qtbot.waitUntil(lambda: window.image_view.rad is not None and Path(window.image_view.rad.path) == second,
                        timeout=60_000)
        assert not ai.panel.overlay_box.isChecked() and not ai.overlay.visible  # the next film opens plain
        assert ai.panel.overlay_box.isChecked() is False

        ai.auto_action.setChecked(True)  # "Show overlays automatically on new films"
        ai.panel.overlay_box.setChecked(True)
        window.open_paths([str(first)])
        qtbot.waitUntil(lambda: Path(window.image_view.rad.path) == first, timeout=60_000)
        assert ai.panel.overlay_box.isChecked()
        assert window.settings["overlay"]["auto_show"] is True
    finally:
        ai.service.shutdown()


def test_report_pane_agrees_with_the_panel_on_an_uncertain_film(qtbot, predictions, dicom_dir):
    from cxviewer.imaging import read_radiograph
    from cxviewer.report.drafts import DraftStore
    from cxviewer.ui.report.dock import ReportDock

    uncertain = next(p for p in predictions if p.call == "uncertain")
    called = next(p for p in predictions if p.call not in ("uncertain", None))
    dock = ReportDock(store=DraftStore(), autosave_ms=50)
    qtbot.addWidget(dock)
    dock.set_radiograph(read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm"))
    dock.set_prediction(uncertain)
    text = dock.ai_label.text()
    assert uncertain.call_note and f"Uncertain: {uncertain.call_note}" in text  # why, in the model's own words
    assert "<b>" not in text.split("</table>")[0]
    dock.set_prediction(called)
    text = dock.ai_label.text()
    assert f"Call: <b>{display_name(called.call)}</b>" in text  # the reader's name for the class, as the panel


def test_pdf_agrees_with_the_report_pane_on_an_uncertain_film(qapp, predictions, dicom_dir, tmp_path):
    """No class is marked leading (nor bold) on an uncertain film, as in the report pane and the panel."""
    from pdf_readback import read_text, squash

    from cxviewer.imaging import read_radiograph, render_display
    from cxviewer.report import Report
    from cxviewer.report.pdf import render_report_pdf

    rad = read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm")
    texts = {}
    for call in ("uncertain", "called"):
        prediction = next(p for p in predictions if (p.call == "uncertain") == (call == "uncertain") and p.call)
        report = Report.for_radiograph(rad)
        report.set_prediction(prediction)
        path = tmp_path / f"{call}.pdf"
        render_report_pdf(path, report, render_display(rad), None)
        texts[call] = (prediction, read_text(path))
    uncertain, text = texts["uncertain"]
    assert "(leading)" not in text and squash(f"Uncertain: {uncertain.call_note}") in squash(text)
    assert all(display_name(k) in text for k in uncertain.labels)
    called, text = texts["called"]
    assert squash(f"{display_name(called.label)} (leading)") in squash(text)
    assert squash(f"Call: {display_name(called.call)}") in squash(text)


@pytest.fixture(scope="module")
def ruled(clf, films, predictions):
    """One real film (top class below 95 %) through the real classifier under per-class rules built from the
    card's temperature: its top class never called, and its top class's threshold just above the film."""
    from cxviewer.model.calibration import Calibration

    (_, img), pred = next((f, p) for f, p in zip(films, predictions) if p.confidence < 0.95)
    saved = clf.calibration
    top, p = pred.label, pred.confidence
    low = {label: 0.34 for label in clf.labels}
    out = {}
    try:
        for case, threshold in (("never", None), ("below", round(min(p + 0.05, 0.99), 2)), ("called", 0.34)):
            clf.calibration = Calibration(saved.temperature, {**low, top: threshold}, 0.0, 0.85)
            out[case] = clf.predict(img, gradcam=False, outline=False)
    finally:
        clf.calibration = saved
    return out


def test_call_note_on_real_films_says_why_the_film_got_no_call(clf, predictions, ruled):
    from cxviewer.no_call import GENERIC_NO_CALL

    for pred in predictions:  # the bundled card's rule: its own reason for each uncertain film, none for a called one
        if pred.call == "uncertain":
            assert pred.call_note == clf.calibration.why_no_call(pred.labels, pred.probabilities, display=pred.name)
            assert pred.as_dict()["call_note"] == pred.call_note
            if not clf.calibration.per_class and pred.confidence < clf.calibration.thresholds(pred.labels)[0]:
                assert pred.call_note == GENERIC_NO_CALL  # an old card's one threshold: the sentence it always had
        else:
            assert pred.call_note is None and pred.as_dict()["call_note"] is None
    never, below, called = ruled["never"], ruled["below"], ruled["called"]
    name, p = never.name(never.label), never.confidence
    assert never.call == below.call == "uncertain" and called.call == called.label
    assert never.call_note == (f"the model never calls {name} (the top class here, at {p * 100:.0f} %); on the "
                               f"validation patients its {name} calls were right less than 85 % of the time")
    t = min(p + 0.05, 0.99)
    assert below.call_note.startswith(f"{name} is at ") and f"the model calls {name} only from " in below.call_note
    assert f"{t * 100:.0f} %" in below.call_note and "at least 85 % of the time on validation" in below.call_note
    assert called.call_note is None and called.as_dict()["call_note"] is None
    assert never.as_dict()["call_note"] == never.call_note


def test_panel_and_report_pane_show_why_an_uncertain_film_got_no_call(qtbot, ruled, predictions, dicom_dir):
    from cxviewer.imaging import read_radiograph
    from cxviewer.no_call import no_call_sentence
    from cxviewer.report.drafts import DraftStore
    from cxviewer.ui.ai.panel import AIPanel
    from cxviewer.ui.ai.study_column import verdict
    from cxviewer.ui.report.dock import ReportDock

    never = ruled["never"]
    panel = AIPanel()
    qtbot.addWidget(panel)
    panel.show_prediction(never)
    assert panel.leading.text().startswith("Uncertain: ")  # the headline stands; the reason is the line under it
    assert panel.call_note.text() == no_call_sentence(never.call_note) == panel.leading.toolTip()
    assert panel.call_note.text().startswith("The model never calls ") and not panel.call_note.isHidden()
    panel.show_prediction(ruled["called"])
    assert panel.call_note.isHidden() and panel.call_note.text() == "" and panel.leading.toolTip() == ""
    assert verdict(never)[0] == "Uncertain" and never.call_note in verdict(never)[2]

    dock = ReportDock(store=DraftStore(), autosave_ms=50)
    qtbot.addWidget(dock)
    dock.set_radiograph(read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm"))
    dock.set_prediction(never)
    assert "no class is likely enough" not in dock.ai_label.text()
    assert f"Uncertain: {never.call_note}" in dock.ai_label.text().replace("&#x27;", "'")


def test_pdf_and_saved_report_carry_the_reason_and_an_older_report_without_it_loads(qapp, ruled, dicom_dir, tmp_path):
    from pdf_readback import read_text, squash

    from cxviewer.imaging import read_radiograph, render_display
    from cxviewer.no_call import GENERIC_NO_CALL
    from cxviewer.report import Report
    from cxviewer.report.pdf import render_report_pdf

    never = ruled["never"]
    rad = read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm")
    report = Report.for_radiograph(rad)
    report.set_prediction(never)
    assert f"The model makes no call (uncertain): {never.call_note}." in report.ai.summary()
    saved = json.loads(json.dumps(report.to_dict()))
    assert saved["ai"]["call_note"] == never.call_note
    assert Report.from_dict(saved).ai.call_note == never.call_note
    path = tmp_path / "never.pdf"
    render_report_pdf(path, report, render_display(rad), None)
    text = read_text(path)
    assert squash(f"Uncertain: {never.call_note}") in squash(text) and "no class is likely enough" not in text

    del saved["ai"]["call_note"]  # a report saved before the note existed
    older = Report.from_dict(saved)
    assert older.ai.call == "uncertain" and older.ai.call_note == ""
    assert older.ai.no_call_reason == GENERIC_NO_CALL and GENERIC_NO_CALL in older.ai.summary()
    render_report_pdf(tmp_path / "older.pdf", older, render_display(rad), None)
    assert squash(f"Uncertain: {GENERIC_NO_CALL}") in squash(read_text(tmp_path / "older.pdf"))
