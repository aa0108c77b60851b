"""The bundled model card is complete, honest and the single source the app runs from."""

import json
import shutil
import subprocess
import sys

import pytest

from cxviewer import paths
from cxviewer.model import ModelCardError, available_models, default_model_dir, load_card
from cxviewer.model.card import save_card
from cxviewer.model.registry import DEFAULT_MODEL

BUNDLED = [c for c in available_models() if c.directory.parent == paths.models_dir()]
needs_model = pytest.mark.skipif(not BUNDLED, reason="no bundled model in models/")


@needs_model
def test_exactly_one_bundled_classifier_is_the_default():
    defaults = [c for c in BUNDLED if c.data.get("default") is True]
    assert len(defaults) == 1 and defaults[0].name == DEFAULT_MODEL
    assert default_model_dir() == defaults[0].directory
    # the others say why they are not (the comparison table is in every card)
    for card in BUNDLED:
        if len(BUNDLED) > 1:
            assert "comparison_md" in card.data and "Macro ROC AUC" in card.data["comparison_md"]


@needs_model
@pytest.mark.parametrize("card", BUNDLED, ids=[c.name for c in BUNDLED])
def test_card_describes_model_and_held_out_figures(card):
    d = card.data
    assert d["architecture"] == "densenet121-cxnet"
    assert card.labels == ("covid", "pneumonia", "normal")
    assert card.input_size in (128, 224, 320)
    assert d["input"]["channels"][0].startswith("BEASF")
    test = d["metrics"]["test"]
    assert test["n"] > 100
    assert 0.5 < test["macro_auc"] <= 1.0
    assert set(test["per_class"]) == {"covid", "pneumonia", "normal"}
    assert sum(map(sum, test["confusion_matrix"]["rows_true_cols_predicted"])) == test["n"]
    att = test["attention"]
    assert att["lung_images"] > 5 and 0.0 <= att["lung_share_mean"] <= 1.0
    assert d["training"]["train_seconds"] > 0
    assert d["failure_modes"] and d["training"]["data"]
    md = (card.directory / "card.md").read_text(encoding="utf-8")
    assert md.count("Macro ROC AUC") >= 1 and card.name in md
    if d["input"].get("crop"):
        assert "lung_crop_applied_rate" in test and att["lung_share_uniform_over_input_mean"] is not None


def test_user_model_folder_shows_up_and_broken_ones_are_skipped(tmp_path, monkeypatch):
    from cxviewer import paths

    user_models = paths.user_models_dir()
    user_models.mkdir(parents=True, exist_ok=True)
    (user_models / "broken").mkdir()
    (user_models / "broken" / "card.json").write_text("{not json")
    if BUNDLED:
        extra = user_models / "my-model"
        extra.mkdir()
        shutil.copy(BUNDLED[0].weights_path, extra / BUNDLED[0].weights_path.name)
        save_card(extra, {**BUNDLED[0].data, "name": "my-model", "default": False})
    names = [c.name for c in available_models()]
    assert "broken" not in names
    if BUNDLED:
        assert names.index("my-model") > max(names.index(c.name) for c in BUNDLED)  # bundled first


def test_card_without_weights_is_refused(tmp_path):
    save_card(tmp_path, {"name": "x", "version": "1", "architecture": "densenet121-cxnet", "weights": "w.h5",
                         "labels": ["a", "b", "c"], "input": {"size": 224}})
    with pytest.raises(ModelCardError, match="missing"):
        load_card(tmp_path)


@needs_model
def test_predict_cli_on_real_cr(shared_dir):
    out = subprocess.run(
        [sys.executable, "-m", "cxviewer", "predict", str(shared_dir / "data/dicom/CR-MONO1-10-chest.dcm"), "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["label"] in ("covid", "pneumonia", "normal")
    assert abs(sum(result["probabilities"].values()) - 1) < 1e-3
    assert result["model"] == DEFAULT_MODEL and result["model_version"]
    assert result["timing_ms"]["predict"] > 0


def test_predict_cli_reports_unreadable_file(tmp_path):
    bad = tmp_path / "notes.dcm"
    bad.write_text("this is not an image")
    out = subprocess.run([sys.executable, "-m", "cxviewer", "predict", str(bad)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "notes.dcm" in out.stderr and "Traceback" not in out.stderr
