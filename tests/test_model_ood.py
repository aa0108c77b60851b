"""The out-of-distribution gate: held-out chest radiographs pass, things that are not one are refused."""

import json
import subprocess
import sys

import numpy as np
import pytest

from cxviewer.model import available_models
from cxviewer.model.ood import calibrate, fit_gate
from cxviewer.model.ood_fit import NON_CHEST_DICOM, synthetic_out_of_scope

BUNDLED = [c for c in available_models() if c.data.get("ood")]
needs_model = pytest.mark.skipif(not BUNDLED, reason="no bundled model with an OOD gate in models/")


def test_gate_maths_on_known_clusters():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 5, (3, 40))
    train = np.concatenate([c + rng.normal(0, 1, (300, 40)) for c in centres])
    labels = np.repeat(np.arange(3), 300)
    held_out = np.concatenate([c + rng.normal(0, 1, (200, 40)) for c in centres])
    gate = calibrate(fit_gate(train, labels, components=20), held_out, pass_rate=0.99)
    assert np.mean(gate.score(held_out) <= gate.threshold) >= 0.99
    far = rng.normal(0, 1, (50, 40)) + 25.0
    assert np.all(gate.score(far) > gate.threshold)


def test_gate_round_trips_through_its_file(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 8))
    gate = calibrate(fit_gate(x, np.repeat([0, 1], 50), components=4), x)
    gate.save(tmp_path / "g.npz")
    from cxviewer.model.ood import OodGate

    again = OodGate.load(tmp_path / "g.npz")
    np.testing.assert_allclose(again.score(x), gate.score(x))
    assert again.threshold == gate.threshold


@pytest.fixture(scope="module")
def classifier():
    from cxviewer.model import load_classifier

    return load_classifier(BUNDLED[0].directory)


@needs_model
def test_held_out_chest_radiographs_pass(classifier, shared_dir):
    from cxviewer.model.dataset import read_manifest, split_by_patient
    from cxviewer.model.train import load_grey

    test = split_by_patient(read_manifest(shared_dir / "data/cxr"), seed=classifier.card.data["training"]["seed"])["test"]
    images = [load_grey(s.path) for s in test[::6]]
    preds = classifier.predict_batch(images)
    assert np.mean([p.in_scope for p in preds]) >= 0.9


@needs_model
def test_out_of_scope_inputs_are_refused(classifier, shared_dir):
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image

    rng = np.random.default_rng(7)
    synthetic = synthetic_out_of_scope(rng, [])
    images = synthetic["photo"][:4] + synthetic["document"][:4] + synthetic["noise"][:2]
    images += [model_image(read_radiograph(shared_dir / "data/dicom" / f)) for f in NON_CHEST_DICOM]
    preds = classifier.predict_batch(images)
    refused = [not p.in_scope for p in preds]
    assert all(refused), [round(p.ood_score, 1) for p in preds]
    assert all(p.as_dict()["probabilities"] is None and p.as_dict()["status"] == "out_of_scope" for p in preds)


@needs_model
def test_predict_cli_gives_no_opinion_outside_scope(shared_dir):
    out = subprocess.run([sys.executable, "-m", "cxviewer", "predict", str(shared_dir / "data/dicom/RG2_J2KR.dcm"), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "out_of_scope" and result["label"] is None and result["probabilities"] is None
    assert result["ood_score"] > BUNDLED[0].data["ood"]["threshold"]
