"""``cxviewer train``: COVID-CXNet training on a labelled folder, resumable, one checkpoint per epoch.

Layout of ``out``: ``checkpoints/last.keras`` + ``checkpoints/state.json`` (resume),
``weights.weights.h5`` (best epoch by validation macro AUC, a figure one class cannot fool),
``train_log.jsonl`` (one line per epoch), then ``card.json``/``card.md`` written by evaluation.
Early stopping watches validation loss.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np

from cxviewer.model.augment import augment
from cxviewer.model.dataset import TRAINING_LABELS, label_indices, read_manifest, split_by_patient
from cxviewer.model.metrics import classification_report
from cxviewer.model.preprocess import prepare

WEIGHTS_FILE = "weights.weights.h5"
LABEL_SMOOTHING = 0.1
BN_MOMENTUM = 0.9


def load_grey(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise OSError(f"cannot read training image {path}")
    return img


def load_readable(samples: list, log=print) -> tuple[list, list[np.ndarray]]:
    """The samples whose image can be read, and their images; each unreadable file is skipped with its reason
    logged (a training run never dies on one bad file)."""
    kept, images = [], []
    for s in samples:
        try:
            img = load_grey(s.path)
        except OSError as exc:
            log(f"skipping unreadable training image {s.path}: {exc}")
            continue
        if img.ndim != 2 or min(img.shape) < 16:
            log(f"skipping training image {s.path}: {img.shape[1]} x {img.shape[0]} px is too small to train on")
            continue
        kept.append(s)
        images.append(img)
    return kept, images


def prepared_stack(images: list[np.ndarray], input_size: int, standardise: str | None = None) -> np.ndarray:
    return np.stack([prepare(img, input_size, standardise=standardise)[0] for img in images])


def view_group(view: str) -> str | None:
    """AP (supine or erect) or PA; None where the source records no view."""
    v = (view or "").strip().upper()
    return "AP" if v.startswith("AP") else "PA" if v.startswith("PA") else None


def view_balanced_weights(labels: np.ndarray, views: list[str | None], n: int) -> np.ndarray:
    """Per-image loss weights: balanced classes, and within each class AP and PA films weighted equally.

    In the training data the NIH normal films are 71 % AP and the NIH pneumonia films 54 % PA, so a
    network can learn "PA projection -> pneumonia" (and other hospitals' normal PA films then read as
    disease). Equal AP/PA weight within every class removes that cue from the loss; films without a
    recorded view keep their class weight.
    """
    labels = np.asarray(labels)
    w = np.zeros(len(labels), dtype=np.float32)
    counts = np.bincount(labels, minlength=n)
    for k in range(n):
        in_class = labels == k
        w[in_class] = len(labels) / (n * counts[k])
        known = [i for i in np.flatnonzero(in_class) if views[i] is not None]
        groups = sorted({views[i] for i in known})
        if len(groups) < 2:
            continue
        for g in groups:
            members = [i for i in known if views[i] == g]
            w[members] *= len(known) / (len(groups) * len(members))
    return w


def lung_crops(images: list[np.ndarray], lung_model: str | Path) -> tuple[list[np.ndarray], float]:
    """Each film cut to the box the app's lung crop would use (the whole film where no lungs are found)."""
    from cxviewer.model.segmenter import load_segmenter

    seg = load_segmenter(lung_model)
    out, found = [], 0
    for i in range(0, len(images), 64):
        chunk = images[i : i + 64]
        for img, res in zip(chunk, seg.segment_many(chunk)):
            if res.box is None:
                out.append(img)
                continue
            y0, x0, y1, x1 = res.box
            out.append(np.ascontiguousarray(img[y0:y1, x0:x1]))
            found += 1
    return out, found / max(1, len(images))


def one_hot(indices: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[indices]


def smoothed_ce(y: np.ndarray, probs: np.ndarray) -> float:
    n = y.shape[1]
    target = y * (1 - LABEL_SMOOTHING) + LABEL_SMOOTHING / n
    return float(-(target * np.log(np.clip(probs, 1e-7, 1.0))).sum(axis=1).mean())


def balanced_class_weights(indices: np.ndarray, n: int) -> dict[int, float]:
    counts = np.bincount(indices, minlength=n)
    return {k: float(len(indices) / (n * counts[k])) for k in range(n)}


def train(
    data_dir: str | Path,
    out_dir: str | Path,
    input_size: int = 224,
    epochs: int = 16,
    batch_size: int = 16,
    learning_rate: float = 3e-4,
    seed: int = 20201,
    patience: int = 4,
    max_minutes: float | None = None,
    resume: bool = True,
    train_size: int | None = None,
    init_weights: str | Path | None = None,
    warmup_epochs: float = 1.0,
    lung_model: str | Path | None = None,
    standardise: str | None = None,
    balance_views: bool = False,
    monitor_dir: str | Path | None = None,
    log=print,
) -> dict:
    """Train (or resume) one run.

    ``train_size`` < ``input_size`` trains at a lower resolution (progressive resizing: the network is
    fully convolutional, so a later run at ``input_size`` started with ``init_weights`` fine-tunes it).
    ``lung_model`` (a lung segmenter's folder) trains on the lung crop the app will make at inference:
    each film is cut to its dilated lung box once, before augmentation.
    ``standardise`` equalises each input's histogram (see :func:`preprocess.prepare`); ``balance_views``
    weights AP and PA films equally within each class (:func:`view_balanced_weights`). ``monitor_dir``
    (a labelled folder from other sources) is only predicted and logged each epoch, never trained or
    fitted on, and every epoch's weights are kept under ``checkpoints/`` so a checkpoint can be chosen.
    """
    import keras

    from cxviewer.model.network import ARCHITECTURE, build_cxnet
    from cxviewer.model.runtime import import_tensorflow

    tf = import_tensorflow()
    size = train_size or input_size
    out = Path(out_dir)
    ckpt_dir = out / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    state_path = ckpt_dir / "state.json"
    log_path = out / "train_log.jsonl"

    splits = split_by_patient(read_manifest(data_dir), seed=seed)
    train_s, val_s = splits["train"], splits["val"]
    log(f"split by patient: train {len(train_s)}, val {len(val_s)}, test {len(splits['test'])} images")
    train_s, train_imgs = load_readable(train_s, log)
    val_s, val_imgs = load_readable(val_s, log)
    crop_rate = None
    if lung_model:
        train_imgs, train_rate = lung_crops(train_imgs, lung_model)
        val_imgs, val_rate = lung_crops(val_imgs, lung_model)
        crop_rate = {"train": train_rate, "val": val_rate}
        log(f"lung crop found for {train_rate:.1%} of training and {val_rate:.1%} of validation films")
    monitor = None
    if monitor_dir:
        mon_s, mon_imgs = load_readable(read_manifest(monitor_dir), log)
        if lung_model:
            mon_imgs, _ = lung_crops(mon_imgs, lung_model)
        monitor = (prepared_stack(mon_imgs, size, standardise), label_indices(mon_s, TRAINING_LABELS))
        log(f"monitoring {len(mon_s)} films of {monitor_dir} (predicted and logged only)")
    train_y = label_indices(train_s, TRAINING_LABELS)
    n = len(TRAINING_LABELS)
    if balance_views:
        sample_w = view_balanced_weights(train_y, [view_group(s.view) for s in train_s], n)
    else:
        cw = balanced_class_weights(train_y, n)
        sample_w = np.array([cw[k] for k in train_y], dtype=np.float32)
    val_x = prepared_stack(val_imgs, size, standardise)
    val_y = label_indices(val_s, TRAINING_LABELS)

    class Batches(keras.utils.PyDataset):
        """Shuffled, augmented batches; the views depend only on (seed, epoch, batch index)."""

        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self.epoch = 0
            self.order = np.arange(len(train_imgs))

        def __len__(self):
            return int(np.ceil(len(train_imgs) / batch_size))

        def on_epoch_begin(self, epoch=None):
            self.epoch = self.epoch + 1 if epoch is None else epoch
            self.order = np.random.default_rng((seed, self.epoch)).permutation(len(train_imgs))

        def __getitem__(self, i):
            idx = self.order[i * batch_size : (i + 1) * batch_size]
            rng = np.random.default_rng((seed, self.epoch, i))
            x = np.stack([prepare(augment(train_imgs[j], rng), size, standardise=standardise)[0] for j in idx])
            return x, one_hot(train_y[idx], n), sample_w[idx]

    batches = Batches()
    steps = len(batches)
    state = {"epoch": -1, "best_auc": -1.0, "best_epoch": None, "best_val_loss": float("inf"), "bad_epochs": 0, "seconds": 0.0}
    if resume and state_path.exists() and (ckpt_dir / "last.keras").exists():
        state = json.loads(state_path.read_text())
        model = keras.models.load_model(ckpt_dir / "last.keras")
        log(f"resuming after epoch {state['epoch'] + 1}")
    else:
        keras.utils.set_random_seed(seed)
        model = build_cxnet(size, n)
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                # 0.99 lets the moving statistics lag far behind the weights in a short CPU run: in
                # inference mode the net then predicted one class for every validation image.
                layer.momentum = BN_MOMENTUM
        if init_weights:
            model.load_weights(str(init_weights))
            log(f"initialised from {init_weights}")
        warmup = int(round(steps * warmup_epochs))
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=learning_rate / 30,
            decay_steps=max(1, steps * epochs - warmup),
            alpha=0.05,
            warmup_target=learning_rate,
            warmup_steps=warmup,
        )
        model.compile(
            optimizer=keras.optimizers.Adam(schedule),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING),
            metrics=["accuracy"],
        )
        log_path.unlink(missing_ok=True)
    started = time.monotonic() - state["seconds"]
    forward = tf.function(lambda x: model(x, training=False))

    class EpochEnd(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            batches.on_epoch_begin(epoch)
            self.t0 = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            probs = np.concatenate([forward(val_x[i : i + 32]).numpy() for i in range(0, len(val_x), 32)])
            report = classification_report(val_y, probs, TRAINING_LABELS)
            val_loss = smoothed_ce(one_hot(val_y, n), probs)
            improved_auc = report["macro_auc"] > state["best_auc"]
            if improved_auc:
                state.update(best_auc=report["macro_auc"], best_epoch=epoch + 1)
                model.save_weights(out / WEIGHTS_FILE)
            if val_loss < state["best_val_loss"] - 1e-4:
                state.update(best_val_loss=val_loss, bad_epochs=0)
            else:
                state["bad_epochs"] += 1
            state.update(epoch=epoch, seconds=time.monotonic() - started)
            model.save(ckpt_dir / "last.keras")
            model.save_weights(ckpt_dir / f"epoch_{epoch + 1:03d}.weights.h5")
            state_path.write_text(json.dumps(state, indent=1))
            line = {
                "epoch": epoch + 1,
                "loss": round(float(logs.get("loss", float("nan"))), 4),
                "accuracy": round(float(logs.get("accuracy", float("nan"))), 4),
                "val_loss": round(val_loss, 4),
                "val_accuracy": round(report["accuracy"], 4),
                "val_balanced_accuracy": round(report["balanced_accuracy"], 4),
                "val_macro_auc": round(report["macro_auc"], 4),
                "val_recall": {k: round(v["recall"], 3) for k, v in report["per_class"].items()},
                "epoch_seconds": round(time.monotonic() - self.t0, 1),
                "best_epoch": state["best_epoch"],
            }
            if monitor is not None:
                mx, my = monitor
                mprobs = np.concatenate([forward(mx[i : i + 32]).numpy() for i in range(0, len(mx), 32)])
                mrep = classification_report(my, mprobs, TRAINING_LABELS)
                line["monitor_macro_auc"] = round(mrep["macro_auc"], 4)
                line["monitor_recall"] = {k: round(v["recall"], 3) for k, v in mrep["per_class"].items()}
                line["monitor_auc"] = {k: round(v["auc"], 3) for k, v in mrep["per_class"].items()}
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(line) + "\n")
            log(json.dumps(line))
            over_time = max_minutes is not None and state["seconds"] > max_minutes * 60
            if state["bad_epochs"] >= patience or over_time:
                log("early stop: " + ("time budget spent" if over_time else f"val loss flat for {patience} epochs"))
                self.model.stop_training = True

    if state["epoch"] + 1 < epochs and state["bad_epochs"] < patience:
        model.fit(
            batches,
            epochs=epochs,
            initial_epoch=state["epoch"] + 1,
            callbacks=[EpochEnd()],
            verbose=2,
        )
    summary = {
        "architecture": ARCHITECTURE,
        "input_size": input_size,
        "train_size": size,
        "init_weights": str(init_weights) if init_weights else None,
        "epochs_run": state["epoch"] + 1,
        "best_epoch": state["best_epoch"],
        "best_val_macro_auc": state["best_auc"],
        "train_seconds": round(state["seconds"], 1),
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "seed": seed,
        "split_sizes": {k: len(v) for k, v in splits.items()},
        "lung_model": str(lung_model) if lung_model else None,
        "lung_crop_rate": crop_rate,
        "standardise": standardise,
        "balance_views": balance_views,
    }
    (out / "train_summary.json").write_text(json.dumps(summary, indent=1))
    return summary

