"""A tiny real training run (slow, minutes on two cores: DenseNet at 32 px, 30 films, one epoch, then a
resumed second): checkpoints, the epoch log, the best weights, the summary, resuming where it stopped.
Run with ``-m slow``."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_tiny_run_logs_checkpoints_and_resumes(tiny_training_folder, tmp_path):
    from cxviewer.training.dataset import read_manifest, split_by_patient
    from cxviewer.training.train import WEIGHTS_FILE, train

    out = tmp_path / "run"
    messages: list[str] = []
    kwargs = dict(input_size=32, batch_size=8, seed=7, patience=10, balance_views=True, monitor_dir=tiny_training_folder,
                  log=messages.append)
    summary = train(tiny_training_folder, out, epochs=1, **kwargs)
    splits = split_by_patient(read_manifest(tiny_training_folder), seed=7)
    assert summary["epochs_run"] == 1 and summary["split_sizes"] == {k: len(v) for k, v in splits.items()}
    assert summary["best_epoch"] == 1 and 0.0 <= summary["best_val_macro_auc"] <= 1.0
    assert json.loads((out / "train_summary.json").read_text()) == summary
    lines = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1]
    assert {"val_macro_auc", "val_recall", "monitor_macro_auc", "monitor_auc", "best_epoch"} <= set(lines[0])
    assert (out / WEIGHTS_FILE).is_file()
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "epoch_001.weights.h5", "last.keras", "state.json"]

    summary = train(tiny_training_folder, out, epochs=2, **kwargs)  # resumes after epoch 1, runs the second only
    assert "resuming after epoch 1" in messages
    assert summary["epochs_run"] == 2
    lines = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2]
    assert (out / "checkpoints" / "epoch_002.weights.h5").is_file()


def test_tiny_run_with_the_attention_penalty_logs_the_share_outside_the_lungs_and_resumes(tiny_training_folder, tmp_path):
    from pathlib import Path

    from cxviewer.training.train import WEIGHTS_FILE, train

    lungs = Path(__file__).resolve().parents[1] / "models" / "lung-unet"
    out = tmp_path / "run"
    messages: list[str] = []
    kwargs = dict(input_size=64, batch_size=8, seed=7, patience=10, lung_model=lungs, attention_penalty=1.0,
                  log=messages.append)
    summary = train(tiny_training_folder, out, epochs=1, **kwargs)
    assert summary["attention_penalty"] == 1.0 and summary["epochs_run"] == 1
    line = json.loads((out / "train_log.jsonl").read_text().splitlines()[0])
    assert 0.0 <= line["outside_lungs"] <= 1.0 and line["loss"] == line["loss"]  # a number, not NaN
    assert (out / WEIGHTS_FILE).is_file()
    summary = train(tiny_training_folder, out, epochs=2, **kwargs)
    assert "resuming after epoch 1" in messages and summary["epochs_run"] == 2
    assert [json.loads(x)["epoch"] for x in (out / "train_log.jsonl").read_text().splitlines()] == [1, 2]
    with pytest.raises(ValueError, match="lung segmenter"):
        train(tiny_training_folder, tmp_path / "other", epochs=1, input_size=64, attention_penalty=1.0)


def test_tiny_run_with_spectrum_standardisation_records_its_template_for_the_card(tiny_training_folder, tmp_path):
    from cxviewer.model.inputs import InputRecipe
    from cxviewer.training.evaluate import base_card
    from cxviewer.training.train import train

    summary = train(tiny_training_folder, tmp_path / "run", epochs=1, input_size=32, batch_size=8, seed=7,
                    standardise="equalize_hist+spectrum", log=lambda m: None)
    template = summary["spectrum_template"]
    assert len(template) == 32 // 2 + 1 and all(v == v for v in template)
    assert template[1] > template[-1]  # a radiograph's amplitude falls with frequency

    class Card:  # what the app reads back from the card the run's summary writes
        def __init__(self, data):
            self.input_size, self.standardise = data["input"]["size"], data["input"]["standardise"]
            self.spectrum_template = data["input"]["spectrum_template"]
            self.mask_outside_lungs = bool(data["input"].get("mask_outside_lungs"))

    recipe = InputRecipe.of_card(Card(base_card("t", "1.0.0", 32, None, summary["standardise"], template)))
    assert recipe.standardise == "equalize_hist+spectrum" and recipe.spectrum_template == tuple(template)
    with pytest.raises(ValueError, match="training size"):
        train(tiny_training_folder, tmp_path / "other", epochs=1, input_size=64, train_size=32,
              standardise="equalize_hist+spectrum")


def test_tiny_run_that_sees_only_the_lungs_trains_on_windowed_inputs(tiny_training_folder, tmp_path, monkeypatch):
    from pathlib import Path

    import numpy as np

    from cxviewer.training import train_loop
    from cxviewer.training.train import train

    lungs = Path(__file__).resolve().parents[1] / "models" / "lung-unet"
    seen = []
    original = train_loop.AugmentedBatches.__getitem__

    def spy(self, i):
        batch = original(self, i)
        seen.append(batch[0])
        return batch

    monkeypatch.setattr(train_loop.AugmentedBatches, "__getitem__", spy)
    summary = train(tiny_training_folder, tmp_path / "run", epochs=1, input_size=64, batch_size=8, seed=7,
                    lung_model=lungs, mask_outside_lungs=True, log=lambda m: None)
    assert summary["mask_outside_lungs"] is True and summary["attention_penalty"] == 0.0
    x = np.concatenate([b for b in seen if isinstance(b, np.ndarray)])  # no penalty: plain image batches
    black = (x.max(axis=-1) == 0).mean(axis=(1, 2))
    assert np.median(black) > 0.1  # most views have much of their crop hidden
    with pytest.raises(ValueError, match="lung segmenter"):
        train(tiny_training_folder, tmp_path / "other", epochs=1, input_size=64, mask_outside_lungs=True)


def test_tiny_run_with_the_consistency_loss_trains_on_pairs_and_logs_their_disagreement(tiny_training_folder, tmp_path):
    from pathlib import Path

    from cxviewer.training.train import train

    lungs = Path(__file__).resolve().parents[1] / "models" / "lung-unet"
    out = tmp_path / "run"
    summary = train(tiny_training_folder, out, epochs=1, input_size=64, batch_size=4, seed=7, patience=10,
                    lung_model=lungs, consistency=4.0, style_randomise="local-contrast", log=lambda _: None)
    assert summary["consistency"] == 4.0 and summary["attention_penalty"] == 0.0
    line = json.loads((out / "train_log.jsonl").read_text().splitlines()[0])
    assert 0.0 <= line["disagreement"] <= 0.7 and line["loss"] == line["loss"]
    with pytest.raises(ValueError, match="lung segmenter"):
        train(tiny_training_folder, tmp_path / "other", epochs=1, input_size=64, consistency=1.0)
