"""``cxviewer evaluate``'s held-out pass on real films with the bundled default classifier: the figures the card
is written from (the pass had a broken unpacking that only a full evaluation reached)."""

from __future__ import annotations

import numpy as np
import pytest


def test_held_out_figures_of_the_default_classifier(tiny_training_folder, tmp_path):
    from cxviewer.model.classifier import load_classifier
    from cxviewer.training.dataset import read_manifest, split_by_patient
    from cxviewer.training.evaluate import evaluate

    clf = load_classifier()
    seed = 7
    test = split_by_patient(read_manifest(tiny_training_folder), seed=seed)["test"]
    assert test  # this seed gives the 30-film folder test patients
    report = evaluate(clf, tiny_training_folder, seed, log=lambda m: None, predictions_path=tmp_path / "p.csv")
    assert report["n"] == len(test)
    assert 0.0 <= report["accuracy"] <= 1.0 and set(report["per_class"]) == set(clf.labels)
    assert sum(v["n"] for v in report["accuracy_by_source"].values()) == len(test)
    assert report["lung_crop_applied_rate"] == pytest.approx(1.0)
    att = report["attention_unet_masks"]
    assert att["images"] == len(test) and 0.0 <= att["lung_share_mean"] <= 1.0
    assert 0.0 < att["expected_if_uniform_mean"] < 1.0
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert len(rows) == len(test) + 1
    assert np.isfinite(report["attention"]["border_share_mean"])
