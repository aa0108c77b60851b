"""A lung segmenter's folder given where a classifier is expected is refused with a reason, not a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from cxviewer.model import ModelCardError
from cxviewer.model.card import load_card
from cxviewer.model.classifier import Classifier

ROOT = Path(__file__).resolve().parents[1]
LUNGS = ROOT / "models" / "lung-unet"
FILM = ROOT.parent / "shared" / "data" / "dicom" / "RG1_UNCR.dcm"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cxviewer", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_classifier_refuses_a_segmenter_card():
    with pytest.raises(ModelCardError, match="not a classifier"):
        Classifier(load_card(LUNGS))


def test_predict_and_evaluate_refuse_a_segmenter_folder_without_a_traceback():
    if not FILM.exists():
        pytest.skip("../shared/data/dicom is not here")
    for proc in (_cli("predict", str(FILM), "--model", str(LUNGS)),
                 _cli("evaluate", "--data", str(ROOT.parent / "shared" / "data" / "cxr"), "--model", str(LUNGS))):
        assert proc.returncode != 0 and "not a classifier" in proc.stderr
        assert "Traceback" not in proc.stderr
