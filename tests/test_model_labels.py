"""Class labels come from the model card: a model with other classes gets its own rows and names, and
scoring a folder against a model that lacks one of its classes is refused by name."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from cxviewer.model import available_models  # noqa: E402
from cxviewer.class_names import display_name  # noqa: E402
from cxviewer.model.card import load_card  # noqa: E402
from cxviewer.training.dataset import TRAINING_LABELS, label_indices, read_manifest  # noqa: E402
from cxviewer.model.prediction import Prediction  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
OTHER_LABELS = ("no_finding", "effusion", "pneumothorax")
needs_model = pytest.mark.skipif(not available_models(), reason="no bundled model in models/")


@pytest.fixture
def other_card(tmp_path):
    """The bundled default card, copied with three other classes (one of them named by the card)."""
    source = next(c for c in available_models() if c.data.get("default"))
    folder = tmp_path / "other-model"
    folder.mkdir()
    data = dict(source.data, name="other-model", labels=list(OTHER_LABELS), display_names={"effusion": "Pleural effusion"})
    call = dict(data["calibration"]["call"])
    if isinstance(call["min_probability"], dict):  # a per-class rule: the same thresholds under the new names
        call["min_probability"] = dict(zip(OTHER_LABELS, call["min_probability"].values()))
    data["calibration"] = dict(data["calibration"], call=call)
    (folder / "card.json").write_text(json.dumps(data), encoding="utf-8")
    for item in source.directory.iterdir():  # the weights and the card's other files (its OOD gate...)
        if item.name != "card.json":
            (folder / item.name).symlink_to(item)
    return load_card(folder)


def _prediction(labels, probabilities) -> Prediction:
    return Prediction(labels=tuple(labels), probabilities=tuple(probabilities), model_name="other-model",
                      model_version="1", elapsed_ms=12.0, device="CPU")


def test_display_names_known_from_the_card_or_as_written():
    assert display_name("covid") == "COVID-19"
    assert display_name("effusion", {"effusion": "Pleural effusion"}) == "Pleural effusion"
    assert display_name("no_finding") == "No finding"


@needs_model
def test_card_names_each_of_its_own_labels(other_card):
    assert other_card.labels == OTHER_LABELS
    assert other_card.display_names == {"no_finding": "No finding", "effusion": "Pleural effusion",
                                        "pneumothorax": "Pneumothorax"}


@needs_model
def test_panel_default_rows_are_the_default_cards_labels(qtbot):
    from cxviewer.model.registry import default_card
    from cxviewer.ui.ai.panel import AIPanel

    panel = AIPanel()
    qtbot.addWidget(panel)
    assert tuple(panel.bars) == default_card().labels
    assert [panel.names[k] for k in panel.bars] == [default_card().display_names[k] for k in panel.bars]


@needs_model
def test_panel_shows_a_model_with_other_labels_not_empty_rows(qtbot, other_card):
    from PySide6.QtWidgets import QLabel

    from cxviewer.ui.ai.panel import AIPanel

    panel = AIPanel(other_card.labels, other_card.display_names)
    qtbot.addWidget(panel)
    names = [w.text() for w in panel.findChildren(QLabel, "aiClassName")]
    assert names == ["No finding", "Pleural effusion", "Pneumothorax"]
    panel.show_prediction(_prediction(OTHER_LABELS, (0.1, 0.7, 0.2)))
    assert [panel.figures[k].text() for k in OTHER_LABELS] == ["10.0 %", "70.0 %", "20.0 %"]
    assert panel.bars["effusion"].value() == 700
    assert panel.leading.text().startswith("Pleural effusion")

    # the bundled classes after another model: the rows follow the prediction's labels
    panel.show_prediction(_prediction(TRAINING_LABELS, (0.2, 0.3, 0.5)))
    assert tuple(panel.bars) == TRAINING_LABELS and panel.figures["normal"].text() == "50.0 %"
    assert panel.leading.text().startswith("Normal")


def test_scoring_data_against_other_labels_is_refused_by_name(shared_dir):
    samples = read_manifest(shared_dir / "data" / "cxr")
    assert {s.label for s in samples} == set(TRAINING_LABELS)
    assert set(label_indices(samples, ("normal", "pneumonia", "covid"))) == {0, 1, 2}
    with pytest.raises(ValueError, match="lack covid, normal, pneumonia"):
        label_indices(samples, OTHER_LABELS)
    only_normal = read_manifest(shared_dir / "data" / "cxr", ("normal",))
    assert only_normal and {s.label for s in only_normal} == {"normal"}


@needs_model
def test_card_names_reach_the_study_column_the_report_pane_and_the_pdf(qtbot, other_card, dicom_dir, tmp_path):
    """The card's own names travel with the real model's answer: not only the AI panel shows "Pleural effusion"."""
    from pdf_readback import read_text

    from cxviewer.imaging import read_radiograph, render_display
    from cxviewer.model import load_classifier
    from cxviewer.report import Report
    from cxviewer.report.drafts import DraftStore
    from cxviewer.report.pdf import render_report_pdf
    from cxviewer.ui.ai.study_column import verdict
    from cxviewer.ui.report.dock import ReportDock

    rad = read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm")
    prediction = load_classifier(other_card.directory).predict_radiograph(rad, gradcam=False, outline=False)
    assert prediction.labels == OTHER_LABELS and prediction.in_scope
    assert prediction.display_names == other_card.display_names

    text, _rank, tip = verdict(prediction)
    assert "Pleural effusion" in tip and "Effusion " not in tip
    assert text == ("Uncertain" if prediction.call == "uncertain" else prediction.name(prediction.call))

    dock = ReportDock(store=DraftStore(tmp_path / "drafts"), autosave_ms=50)
    qtbot.addWidget(dock)
    dock.set_radiograph(rad)
    dock.set_prediction(prediction)
    assert "Pleural effusion" in dock.ai_label.text() and ">Effusion<" not in dock.ai_label.text()

    report = Report.for_radiograph(rad)
    report.set_prediction(prediction, other_card)
    again = Report.from_dict(report.to_dict())  # a saved draft keeps the card's names
    assert again.ai.display_names == other_card.display_names
    assert "Pleural effusion" in again.ai.summary()
    pdf = tmp_path / "report.pdf"
    render_report_pdf(pdf, again, render_display(rad), None)
    assert "Pleural effusion" in read_text(pdf)


def test_an_old_drafts_ai_block_without_names_shows_the_known_names():
    from cxviewer.report.ai_block import AIBlock

    block = AIBlock.from_dict({"probabilities": {"covid": 0.7, "pneumonia": 0.2, "normal": 0.1},
                               "model": "cxnet-densenet121", "model_version": "1.0.0"})
    assert block.display_names == {}
    assert block.summary().startswith("AI second opinion (cxnet-densenet121 1.0.0): leading class COVID-19 (70%)")


@needs_model
def test_a_card_whose_call_rule_misses_one_of_its_labels_is_refused_when_loaded(tmp_path):
    from cxviewer.model import ModelCardError, load_classifier

    source = next(c for c in available_models() if c.data.get("default"))
    assert isinstance(source.data["calibration"]["call"]["min_probability"], dict)
    folder = tmp_path / "renamed"
    folder.mkdir()
    data = dict(source.data, name="renamed", labels=list(OTHER_LABELS))  # the rule still names covid, pneumonia...
    (folder / "card.json").write_text(json.dumps(data), encoding="utf-8")
    for item in source.directory.iterdir():
        if item.name != "card.json":
            (folder / item.name).symlink_to(item)
    with pytest.raises(ModelCardError, match="names no threshold for no_finding"):
        load_classifier(folder)
