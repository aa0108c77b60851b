"""The out-of-distribution gate: held-out chest radiographs pass, things that are not one are refused."""

import json
import subprocess
import sys

import numpy as np
import pytest

from cxviewer.model import available_models
from cxviewer.model.ood import calibrate, fit_gate
from cxviewer.training.ood_fit import NON_CHEST_DICOM, synthetic_out_of_scope

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


@pytest.fixture(scope="module", params=[c.directory for c in BUNDLED], ids=[c.name for c in BUNDLED])
def classifier(request):
    from cxviewer.model import load_classifier

    return load_classifier(request.param)


@needs_model
def test_held_out_chest_radiographs_pass(classifier, shared_dir):
    from cxviewer.training.dataset import read_manifest, split_by_patient
    from cxviewer.training.train import load_grey

    splits = split_by_patient(read_manifest(shared_dir / "data/cxr"), seed=classifier.card.data["training"]["seed"])
    held_out = splits["val"] + splits["test"]
    images = [load_grey(s.path) for s in held_out[::4]]
    preds = classifier.predict_batch(images)
    assert np.mean([p.in_scope for p in preds]) >= 0.97
    ood = classifier.card.data["ood"]
    # the card's own figures: at least 99 % of the held-out patients' films pass the shipped threshold
    n_val, n_test = len(splits["val"]), len(splits["test"])
    rate = (ood["pass_rate"]["val"] * n_val + ood["pass_rate"]["test"] * n_test) / (n_val + n_test)
    assert rate >= 0.99


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
    assert all(p.as_dict()["probabilities"] is None and p.as_dict()["status"] == "out_of_scope"
               for p, r in zip(preds, refused) if r)
    assert all(refused[4:]), [round(p.ood_score, 1) for p in preds]  # documents, noise, non-chest CR files
    assert all(refused[:4]), [round(p.ood_score, 1) for p in preds[:4]]


@needs_model
def test_predict_cli_gives_no_opinion_outside_scope(shared_dir):
    out = subprocess.run([sys.executable, "-m", "cxviewer", "predict", str(shared_dir / "data/dicom/RG2_J2KR.dcm"), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "out_of_scope" and result["label"] is None and result["probabilities"] is None
    # a hip film: its header already says so (the model's own rules refuse its pixels too: test above)
    assert "HIP" in result["scope_reason"].upper() or "hip" in result["scope_reason"]


def test_header_scope_refusal_is_a_prediction_without_probabilities():
    from cxviewer.model import Prediction

    p = Prediction(labels=("covid", "pneumonia", "normal"), probabilities=(float("nan"),) * 3, model_name="m",
                   model_version="1", elapsed_ms=0.0, device="CPU", scope_reason="This is a CT slice, not a radiograph.")
    assert not p.in_scope
    d = p.as_dict()
    assert d["status"] == "out_of_scope" and d["probabilities"] is None and d["label"] is None
    assert d["scope_reason"] == "This is a CT slice, not a radiograph."
    json.dumps(d)  # valid JSON: the NaN placeholders never reach it


@needs_model
def test_predict_cli_refuses_a_ct_by_its_header(shared_dir, tmp_path):
    from report_samples import dicom_copy

    ct = dicom_copy(tmp_path, Modality="CT", name="ct.dcm")
    out = subprocess.run([sys.executable, "-m", "cxviewer", "predict", str(ct), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "out_of_scope" and result["probabilities"] is None and "CT" in result["scope_reason"]


def test_film_check_learns_a_direction_the_distance_gate_misses(tmp_path):
    """Altered films that sit as close to the training mean as real ones (so the distance gate passes
    them) but lie along one direction: the film check separates them, and round-trips through its file."""
    from cxviewer.model.film_check import FilmCheck, calibrate_film_check, fit_film_check

    rng = np.random.default_rng(3)
    whole = rng.normal(0, 1, (600, 30))
    labels = rng.integers(0, 3, 600)
    gate = calibrate(fit_gate(whole, labels, components=20), rng.normal(0, 1, (300, 30)))
    shift = np.zeros(30)
    shift[:5] = 1.6  # a consistent displacement, modest next to the spread of 30 dimensions
    altered = rng.normal(0, 1, (600, 30)) + shift
    held_out = rng.normal(0, 1, (400, 30))
    check = calibrate_film_check(fit_film_check(gate, whole, altered), gate.project(held_out), pass_rate=0.995)
    assert np.mean(~check.refuses(gate.project(held_out))) >= 0.99
    new_altered = rng.normal(0, 1, (300, 30)) + shift
    assert np.mean(gate.score(new_altered) > gate.threshold) < 0.5  # the gate alone lets most through
    assert np.mean(check.refuses(gate.project(new_altered))) > 0.5
    check.save(tmp_path / "c.npz")
    again = FilmCheck.load(tmp_path / "c.npz")
    np.testing.assert_allclose(again.probability(gate.project(held_out)), check.probability(gate.project(held_out)))
