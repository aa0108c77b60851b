"""The v1-vs-v2 table: figures come from the cards, the AUC gap from paired per-image predictions."""

import csv
import json

import numpy as np
import pytest

from cxviewer.model.card import ModelCard
from cxviewer.training.compare import comparison_markdown, paired_auc_difference

LABELS = ["covid", "pneumonia", "normal"]


def _card(folder, name, probs, y, crop):
    folder.mkdir()
    with open(folder / "held_out_predictions.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "label", "source", "p_covid", "p_pneumonia", "p_normal"])
        for i, (p, k) in enumerate(zip(probs, y)):
            w.writerow([f"img/{i}.jpg", LABELS[k], "src"] + [f"{v:.6f}" for v in p])
    data = {"name": name, "version": "1", "labels": LABELS, "input": {"size": 224, "crop": {"segmentation_model": "lung-unet"} if crop else None},
            "metrics": {"predictions_file": "held_out_predictions.csv",
                        "test": {"n": len(y), "macro_auc": 0.5, "accuracy": 0.5, "balanced_accuracy": 0.5,
                                 "per_class": {k: {"recall": 0.5, "auc": 0.5} for k in LABELS},
                                 "attention": {"lung_share_mean": 0.3, "lung_area_fraction_mean": 0.33}}}}
    (folder / "card.json").write_text(json.dumps(data))
    return ModelCard(folder, data)


def _probs(y, skill, rng):
    logits = rng.normal(0, 1, (len(y), 3))
    logits[np.arange(len(y)), y] += skill
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def test_a_clearly_better_model_gets_an_interval_above_zero(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    weak = _card(tmp_path / "a", "weak", _probs(y, 0.3, rng), y, crop=False)
    strong = _card(tmp_path / "b", "strong", _probs(y, 2.5, rng), y, crop=True)
    d = paired_auc_difference(weak, strong)
    assert d["n"] == 300 and d["difference"] > 0.2
    assert 0 < d["ci95"][0] < d["difference"] < d["ci95"][1]
    md = comparison_markdown([weak, strong])
    assert "| Input | whole film | lung crop |" in md
    assert "95 % paired bootstrap interval" in md


def test_two_equal_models_get_an_interval_around_zero(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    a = _card(tmp_path / "a", "a", _probs(y, 1.0, rng), y, crop=False)
    b = _card(tmp_path / "b", "b", _probs(y, 1.0, rng), y, crop=False)
    lo, hi = paired_auc_difference(a, b)["ci95"]
    assert lo < 0 < hi


def test_readme_table_matches_the_bundled_cards():
    """The v2 / v3 table in the README is the one `cxviewer compare` makes from the two cards, held-out and
    cross-source rows alike, and the card the app runs by default is the one README names."""
    from pathlib import Path

    from cxviewer.model import available_models, default_model_dir
    from cxviewer.training.compare import comparison_rows

    cards = {c.name: c for c in available_models()}
    if not {"cxnet-densenet121-lungcrop", "cxnet-densenet121-v3"} <= set(cards):
        pytest.skip("the bundled classifiers are not installed")
    v2, v3 = cards["cxnet-densenet121-lungcrop"], cards["cxnet-densenet121-v3"]
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    lines = [line.strip() for line in readme.splitlines()]
    cells = [[c.strip() for c in line.strip("|").split("|")] if line.startswith("|") else [] for line in lines]
    at = 0
    for name, values in comparison_rows([v2, v3]):  # in the table's order (two rows share a name)
        found = next((i for i in range(at, len(lines)) if cells[i] and cells[i][0] == name.strip()), None)
        assert found is not None, f"README lacks the row {name!r}"
        assert cells[found][1:] == values, name
        at = found + 1
    default = Path(default_model_dir()).name
    assert f"`models/{default}/`" in readme and "**default**" in next(l for l in lines if f"`models/{default}/`" in l)
