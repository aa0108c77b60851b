"""The Keras side of ``cxviewer.training.train``: augmented batches, the model (built or resumed), and the
end-of-epoch bookkeeping (validation figures, best weights, checkpoints, the log line, early stop).

Imports Keras (TensorFlow) at once: only ``train.train`` imports this module, after
:func:`cxviewer.model.runtime.import_tensorflow` has quieted TensorFlow's start-up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from cxviewer.model.preprocess import prepare
from cxviewer.training.augment import PARTNER_STYLES, augment_with_mask, framing, look
from cxviewer.training.dataset import TRAINING_LABELS
from cxviewer.training.lung_attention import mask_cells
from cxviewer.training.metrics import classification_report
from cxviewer.training.train import WEIGHTS_FILE, window_mask

LABEL_SMOOTHING = 0.1
BN_MOMENTUM = 0.9


def one_hot(indices: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[indices]


def smoothed_ce(y: np.ndarray, probs: np.ndarray) -> float:
    n = y.shape[1]
    target = y * (1 - LABEL_SMOOTHING) + LABEL_SMOOTHING / n
    return float(-(target * np.log(np.clip(probs, 1e-7, 1.0))).sum(axis=1).mean())


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled, augmented batches; the views depend only on (seed, epoch, batch index).

    With ``masks`` (each film's lung mask on its pixel grid) a batch is ``((images, lung_cells), labels,
    weights)``: the masks follow the films through the augmentation and are averaged over the feature
    map's cells (:func:`lung_attention.mask_cells`) for the attention penalty. With ``pairs`` each film
    gives two views with one framing and two looks (:func:`augment.framing`, :func:`augment.look`): the
    batch holds every film's first view, then every film's second in the same order (labels, weights and
    cells repeated), for the consistency loss."""

    def __init__(self, images: list[np.ndarray], labels: np.ndarray, weights: np.ndarray, n_classes: int,
                 batch_size: int, seed: int, size: int, standardise: str | None, style_randomise: bool | str | None = False,
                 masks: list[np.ndarray] | None = None, spectrum_template=None, lung_window: bool = False,
                 attention_cells: bool = True, pairs: bool = False):
        super().__init__(workers=1, use_multiprocessing=False)
        self.images, self.labels, self.weights, self.n_classes = images, labels, weights, n_classes
        self.batch_size, self.seed, self.size, self.standardise = batch_size, seed, size, standardise
        self.style_randomise, self.masks, self.spectrum_template = style_randomise, masks, spectrum_template
        if lung_window and masks is None:
            raise ValueError("a lung window needs each film's lung mask")
        self.lung_window = lung_window  # each view sees only its lungs (the mask moved with the augmentation)
        self.attention_cells = attention_cells and masks is not None  # batches carry the masks' cells (penalty)
        self.pairs = pairs
        self.epoch = 0
        self.order = np.arange(len(images))

    def __len__(self):
        return int(np.ceil(len(self.images) / self.batch_size))

    def _partner(self, j: int, rng: np.random.Generator) -> np.ndarray | None:
        """For a style that mixes two films: a random training film of another class than film ``j`` (None
        for the other styles, which draw nothing here, so their views stay as they were)."""
        if self.style_randomise not in PARTNER_STYLES:
            return None
        others = np.flatnonzero(self.labels != self.labels[j])
        return self.images[int(others[rng.integers(len(others))])] if len(others) else self.images[j]

    def on_epoch_begin(self, epoch=None):
        self.epoch = self.epoch + 1 if epoch is None else epoch
        self.order = np.random.default_rng((self.seed, self.epoch)).permutation(len(self.images))

    def __getitem__(self, i):
        idx = self.order[i * self.batch_size : (i + 1) * self.batch_size]
        rng = np.random.default_rng((self.seed, self.epoch, i))
        views, cells = [], []
        for j in idx:
            for img, mask in self._views(j, rng):
                window = window_mask(mask) if self.lung_window else None
                views.append(prepare(img, self.size, standardise=self.standardise,
                                     spectrum_template=self.spectrum_template, lung_mask=window)[0])
                if self.attention_cells:
                    cells.append(mask_cells(mask, self.size // 32))
        if self.pairs:  # (film 1 a, film 1 b, film 2 a, ...) -> (all a, then all b)
            views, cells = views[0::2] + views[1::2], cells[0::2] + cells[1::2]
            idx = np.concatenate([idx, idx])
        x = np.stack(views)
        y, w = one_hot(self.labels[idx], self.n_classes), self.weights[idx]
        return ((x, np.stack(cells)), y, w) if self.attention_cells else (x, y, w)

    def _views(self, j: int, rng: np.random.Generator):
        """Film ``j``'s view (or, with ``pairs``, its two views) with the lung mask moved along."""
        mask = None if self.masks is None else self.masks[j]
        if not self.pairs:
            return [augment_with_mask(self.images[j], mask, rng, self.style_randomise, self._partner(j, rng))]
        img, mask = framing(self.images[j], mask, rng)
        mask = None if mask is None else np.ascontiguousarray(mask)
        return [(look(img, rng, self.style_randomise, self._partner(j, rng)), mask) for _ in range(2)]


def fresh_state() -> dict:
    return {"epoch": -1, "best_auc": -1.0, "best_epoch": None, "best_val_loss": float("inf"), "bad_epochs": 0,
            "seconds": 0.0}


def make_optimizer(steps: int, epochs: int, learning_rate: float, warmup_epochs: float):
    """Adam with a warm-up to ``learning_rate`` then cosine decay over the whole run."""
    warmup = int(round(steps * warmup_epochs))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate / 30,
        decay_steps=max(1, steps * epochs - warmup),
        alpha=0.05,
        warmup_target=learning_rate,
        warmup_steps=warmup,
    )
    return keras.optimizers.Adam(schedule)


def build_model(size: int, n_classes: int, seed: int, steps: int, epochs: int, learning_rate: float,
                warmup_epochs: float, init_weights: str | Path | None, log: Callable[[str], object]):
    """A new compiled network: seeded, BatchNorm momentum lowered, warm-up then cosine learning rate."""
    from cxviewer.model.network import build_cxnet

    keras.utils.set_random_seed(seed)
    model = build_cxnet(size, n_classes)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            # 0.99 lets the moving statistics lag far behind the weights in a short CPU run: in
            # inference mode the net then predicted one class for every validation image.
            layer.momentum = BN_MOMENTUM
    if init_weights:
        model.load_weights(str(init_weights))
        log(f"initialised from {init_weights}")
    model.compile(
        optimizer=make_optimizer(steps, epochs, learning_rate, warmup_epochs),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING),
        metrics=["accuracy"],
    )
    return model


def attention_trainer(network, penalty: float, steps: int, epochs: int, learning_rate: float,
                      warmup_epochs: float, steps_done: int = 0, consistency: float = 0.0):
    """``network`` wrapped to train with the lung-attention penalty, compiled with the run's schedule,
    which resumes at ``steps_done`` (the optimiser's moments start afresh after an interruption)."""
    from cxviewer.training.lung_attention import LungAttentionTrainer

    trainer = LungAttentionTrainer(network, penalty, LABEL_SMOOTHING, consistency=consistency)
    optimizer = make_optimizer(steps, epochs, learning_rate, warmup_epochs)
    trainer.compile(optimizer=optimizer)
    optimizer.build(network.trainable_variables)
    optimizer.iterations.assign(steps_done)
    return trainer


@dataclass
class RunFiles:
    """Where a run keeps its files (see the layout in ``cxviewer.training.train``)."""

    out: Path

    @property
    def checkpoints(self) -> Path:
        return self.out / "checkpoints"

    @property
    def state(self) -> Path:
        return self.checkpoints / "state.json"

    @property
    def last(self) -> Path:
        return self.checkpoints / "last.keras"

    @property
    def log(self) -> Path:
        return self.out / "train_log.jsonl"


def _probabilities(forward, x: np.ndarray) -> np.ndarray:
    return np.concatenate([forward(x[i : i + 32]).numpy() for i in range(0, len(x), 32)])


class EpochEnd(keras.callbacks.Callback):
    """After each epoch: validation figures, best weights by macro AUC, checkpoints, one log line, early stop."""

    def __init__(self, model, forward, batches: AugmentedBatches, files: RunFiles, state: dict, started: float,
                 validation: tuple[np.ndarray, np.ndarray], monitor: tuple[np.ndarray, np.ndarray] | None,
                 patience: int, max_minutes: float | None, log: Callable[[str], object]):
        super().__init__()
        self.network, self.forward, self.batches, self.files = model, forward, batches, files
        self.state, self.started, self.validation, self.monitor = state, started, validation, monitor
        self.patience, self.max_minutes, self.log = patience, max_minutes, log

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.on_epoch_begin(epoch)
        self.t0 = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        state, model = self.state, self.network
        val_x, val_y = self.validation
        probs = _probabilities(self.forward, val_x)
        report = classification_report(val_y, probs, TRAINING_LABELS)
        val_loss = smoothed_ce(one_hot(val_y, len(TRAINING_LABELS)), probs)
        if report["macro_auc"] > state["best_auc"]:
            state.update(best_auc=report["macro_auc"], best_epoch=epoch + 1)
            model.save_weights(self.files.out / WEIGHTS_FILE)
        if val_loss < state["best_val_loss"] - 1e-4:
            state.update(best_val_loss=val_loss, bad_epochs=0)
        else:
            state["bad_epochs"] += 1
        state.update(epoch=epoch, seconds=time.monotonic() - self.started)
        model.save(self.files.last)
        model.save_weights(self.files.checkpoints / f"epoch_{epoch + 1:03d}.weights.h5")
        self.files.state.write_text(json.dumps(state, indent=1))
        line = self._log_line(epoch, logs or {}, report, val_loss)
        with open(self.files.log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
        self.log(json.dumps(line))
        over_time = self.max_minutes is not None and state["seconds"] > self.max_minutes * 60
        if state["bad_epochs"] >= self.patience or over_time:
            self.log("early stop: " + ("time budget spent" if over_time else f"val loss flat for {self.patience} epochs"))
            self.model.stop_training = True

    def _log_line(self, epoch: int, logs: dict, report: dict, val_loss: float) -> dict:
        line = {
            "epoch": epoch + 1,
            "loss": round(float(logs.get("loss", float("nan"))), 4),
            "accuracy": round(float(logs.get("accuracy", float("nan"))), 4),
            **({"outside_lungs": round(float(logs["outside_lungs"]), 4)} if "outside_lungs" in logs else {}),
            **({"disagreement": round(float(logs["disagreement"]), 4)} if "disagreement" in logs else {}),
            "val_loss": round(val_loss, 4),
            "val_accuracy": round(report["accuracy"], 4),
            "val_balanced_accuracy": round(report["balanced_accuracy"], 4),
            "val_macro_auc": round(report["macro_auc"], 4),
            "val_recall": {k: round(v["recall"], 3) for k, v in report["per_class"].items()},
            "epoch_seconds": round(time.monotonic() - self.t0, 1),
            "best_epoch": self.state["best_epoch"],
        }
        if self.monitor is not None:
            mx, my = self.monitor
            mrep = classification_report(my, _probabilities(self.forward, mx), TRAINING_LABELS)
            line["monitor_macro_auc"] = round(mrep["macro_auc"], 4)
            line["monitor_recall"] = {k: round(v["recall"], 3) for k, v in mrep["per_class"].items()}
            line["monitor_auc"] = {k: round(v["auc"], 3) for k, v in mrep["per_class"].items()}
        return line
