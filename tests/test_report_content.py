"""Report content: header from a real radiograph, Technique prefill, AI block and summary, JSON export."""

from __future__ import annotations

import json

import pytest

from cxviewer.imaging import read_radiograph
from cxviewer.model import Prediction
from cxviewer.report import Report, report_to_json, write_report_json
from cxviewer.report.ai_block import AIBlock
from cxviewer.report.card_summary import card_summary
from cxviewer.report.header import technique_text
from report_samples import CHEST, JAPANESE, dicom_copy

# renderer/formatter input (a Prediction value), not a model result
PREDICTION_INPUT = Prediction(labels=("covid", "pneumonia", "normal"), probabilities=(0.05, 0.2, 0.75),
                              model_name="cxnet-densenet121", model_version="1.0.0", elapsed_ms=640.0,
                              device="GPU:0 NVIDIA H100")


@pytest.fixture
def rad(tmp_path):
    return read_radiograph(dicom_copy(tmp_path, **JAPANESE))


def test_header_from_a_real_dicom(rad):
    report = Report.for_radiograph(rad)
    rows = dict(report.header.display_rows())
    assert rows["Patient name"] == "Yamada, Tarou (山田 太郎 / やまだ たろう)"
    assert rows["Patient ID"] == "JP-000123"
    assert rows["Birth date"] == "1958-04-12"
    assert rows["Sex"] == "Male"
    assert rows["Accession number"] == "ACC-98765"
    assert rows["Study date"] == "2024-01-31 10:15"
    assert rows["Study description"] == "Thorax PA"
    assert rows["View position"] == "PA"
    assert report.status == "Draft"
    assert report.sections["technique"] == "Computed radiography (CR), chest radiograph, PA projection."
    assert report.header.source_name == rad.path.name  # a name only, never the folder


def test_technique_from_the_bundled_chest_header():
    rad = read_radiograph(CHEST)
    assert technique_text(Report.for_radiograph(rad).header).startswith("Computed radiography (CR)")


def test_ai_block_and_summary(rad):
    report = Report.for_radiograph(rad)
    with pytest.raises(ValueError):
        report.insert_ai_summary()
    report.set_prediction(PREDICTION_INPUT, {"metrics": {"test": {"macro_auc": 0.9, "n": 10}}})
    ai = report.ai
    assert ai.label == "normal" and ai.model_name == "cxnet-densenet121" and ai.device.startswith("GPU")
    assert ("Macro ROC AUC", "0.900") in ai.card_summary
    report.sections["findings"] = "Clear lungs."
    findings = report.insert_ai_summary()
    assert findings.startswith("Clear lungs.\n\nAI second opinion (cxnet-densenet121 1.0.0): leading class "
                               "Normal (75%); Other pneumonia 20%, COVID-19 5%. Research use only, not a diagnosis.")
    assert report.insert_ai_summary() == findings  # pressing the button twice adds it once
    # the block survives the JSON round trip (drafts)
    back = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert back.ai.to_dict() == ai.to_dict()
    assert AIBlock.from_dict(ai.to_dict()).label == "normal"


def test_card_summary_of_an_installed_model():
    from cxviewer.model import available_models

    cards = available_models()
    if not cards:
        pytest.skip("no model installed yet (models/ has no card.json with weights)")
    rows = dict(card_summary(cards[0]))
    assert "Macro ROC AUC" in rows and "Held-out images" in rows


def test_card_summary_carries_the_cross_source_figures_of_the_default_model():
    from cxviewer.model.card import load_card
    from cxviewer.model.registry import default_model_dir

    card = load_card(default_model_dir())
    cross = card.data["metrics"]["cross_source"]
    rows = dict(card_summary(card))
    assert rows["Other hospitals' films (never trained on)"] == str(cross["n"])
    assert rows["Macro ROC AUC there"] == f"{cross['macro_auc']:.3f}"
    assert f"Normal {cross['per_class']['normal']['recall']:.3f}" in rows["Recall there"]  # as the AI table names it


def test_json_export(rad, tmp_path):
    report = Report.for_radiograph(rad)
    report.sections["impression"] = "Normal chest. 山田太郎 is known to us."
    report.reader_name = "Dr. Ørsted"
    report.set_prediction(PREDICTION_INPUT)
    path = write_report_json(report, tmp_path / "r.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == "cxviewer.report-export/1" and data["anonymised"] is False
    assert data["header"]["patient_id"] == "JP-000123"
    assert data["patient_and_study"]["Patient name"].startswith("Yamada, Tarou")
    assert [s["title"] for s in data["sections"]] == ["Clinical indication", "Technique", "Findings",
                                                     "Impression", "Recommendation"]
    assert data["ai"]["label"] == "normal" and data["ai"]["probabilities"]["normal"] == 0.75
    assert "not a medical device" in data["notice"]

    anon = tmp_path / "anon.json"
    write_report_json(report, anon, anonymise=True)
    raw = anon.read_text(encoding="utf-8")
    for secret in ("Yamada", "Tarou", "山田", "太郎", "JP-000123", "ACC-98765", "19580412", "1958-04-12",
                   rad.study_uid, rad.sop_uid, rad.path.name):
        assert secret not in raw, secret
    assert json.loads(raw)["anonymised"] is True
    assert "Normal chest." in raw and "[redacted]" in raw


def test_report_to_json_is_json_serialisable(rad):
    json.dumps(report_to_json(Report.for_radiograph(rad)))
