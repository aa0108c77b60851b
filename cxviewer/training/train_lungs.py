"""``cxviewer train-lungs``: the compact lung U-Net on the masked images of the training folder.

The split is the classifier's own patient split (same seed), so no patient whose film the
classifier is tested on has its mask in the segmenter's training set. Loss: binary
cross-entropy + soft Dice. The epoch with the best validation Dice is kept; Dice on the test
patients (at the image's own resolution, after the app's clean-up) goes into the card.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np

from cxviewer.model.lung_mask import clean_mask, dice, segmenter_input
from cxviewer.training.augment import photometric
from cxviewer.training.dataset import read_manifest, split_by_patient
from cxviewer.training.train import load_grey

WEIGHTS_FILE = "weights.weights.h5"


def _masked(samples):
    return [s for s in samples if s.mask_path is not None]


def _load_pair(sample) -> tuple[np.ndarray, np.ndarray]:
    img = load_grey(sample.path)
    mask = cv2.imread(str(sample.mask_path), cv2.IMREAD_GRAYSCALE)
    if mask is None or mask.shape != img.shape:
        raise OSError(f"mask {sample.mask_path} missing or not the image's size")
    return img, (mask > 127).astype(np.uint8)


def augment_pair(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Same geometry for image and mask (rotation, zoom, shift, mirror); light and contrast on the image only."""
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-10, 10), rng.uniform(0.85, 1.15))
    m[:, 2] += (rng.uniform(-0.08, 0.08) * w, rng.uniform(-0.08, 0.08) * h)
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    mask = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if rng.random() < 0.5:  # the mask is symmetric in meaning; a mirrored film is still two lungs
        img, mask = img[:, ::-1], mask[:, ::-1]
    return photometric(np.ascontiguousarray(img), rng), np.ascontiguousarray(mask)


def _target(mask: np.ndarray, size: int) -> np.ndarray:
    return (cv2.resize(mask.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA) >= 0.5).astype(np.float32)[..., None]


def train_lungs(data_dir, out_dir, input_size: int = 256, epochs: int = 60, batch_size: int = 8,
                learning_rate: float = 1e-3, seed: int = 20201, log=print) -> dict:
    import keras

    from cxviewer.model.lung_unet import ARCHITECTURE, build_lung_unet
    from cxviewer.model.runtime import import_tensorflow

    tf = import_tensorflow()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    splits = {k: _masked(v) for k, v in split_by_patient(read_manifest(data_dir), seed=seed).items()}
    log("masked images by split: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
    pairs = {k: [_load_pair(s) for s in v] for k, v in splits.items()}
    val_x = np.stack([segmenter_input(i, input_size) for i, _ in pairs["val"]])
    val_y = np.stack([_target(m, input_size) for _, m in pairs["val"]])

    keras.utils.set_random_seed(seed)
    model = build_lung_unet(input_size)
    steps = int(np.ceil(len(pairs["train"]) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps * epochs, alpha=0.02)
    optimizer = keras.optimizers.Adam(schedule)
    bce = keras.losses.BinaryCrossentropy()

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            p = model(x, training=True)
            inter = tf.reduce_sum(p * y, axis=[1, 2, 3])
            soft_dice = (2 * inter + 1) / (tf.reduce_sum(p, axis=[1, 2, 3]) + tf.reduce_sum(y, axis=[1, 2, 3]) + 1)
            loss = bce(y, p) + tf.reduce_mean(1 - soft_dice)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    forward = tf.function(lambda x: model(x, training=False))
    best, best_epoch, started, history = -1.0, 0, time.monotonic(), []
    for epoch in range(epochs):
        rng = np.random.default_rng((seed, epoch))
        order = rng.permutation(len(pairs["train"]))
        losses = []
        for i in range(steps):
            batch = [augment_pair(*pairs["train"][j], rng) for j in order[i * batch_size : (i + 1) * batch_size]]
            x = np.stack([segmenter_input(img, input_size) for img, _ in batch])
            y = np.stack([_target(m, input_size) for _, m in batch])
            losses.append(float(step(x, y)))
        probs = forward(val_x).numpy()
        val_dice = float(np.mean([dice(clean_mask(p[..., 0]), t[..., 0]) for p, t in zip(probs, val_y)]))
        if val_dice > best:
            best, best_epoch = val_dice, epoch + 1
            model.save_weights(out / WEIGHTS_FILE)
        line = {"epoch": epoch + 1, "loss": round(float(np.mean(losses)), 4), "val_dice": round(val_dice, 4),
                "best_epoch": best_epoch, "seconds": round(time.monotonic() - started, 1)}
        history.append(line)
        log(json.dumps(line))
    (out / "train_log.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    return {
        "architecture": ARCHITECTURE, "input_size": input_size, "epochs_run": epochs, "best_epoch": best_epoch,
        "best_val_dice": best, "train_seconds": round(time.monotonic() - started, 1), "batch_size": batch_size,
        "learning_rate": learning_rate, "seed": seed, "split_sizes": {k: len(v) for k, v in splits.items()},
    }


def held_out_dice(segmenter, data_dir, seed: int = 20201) -> dict:
    """Dice per test image at its own resolution, after the app's clean-up, plus the crop fallback rate."""
    test = _masked(split_by_patient(read_manifest(data_dir), seed=seed)["test"])
    pairs = [_load_pair(s) for s in test]
    results = segmenter.segment_many([img for img, _ in pairs])
    scores = [dice(r.mask, m) for r, (_, m) in zip(results, pairs)]
    return {
        "n": len(scores),
        "dice_mean": round(float(np.mean(scores)), 4),
        "dice_median": round(float(np.median(scores)), 4),
        "dice_min": round(float(np.min(scores)), 4),
        "no_crop_rate": round(float(np.mean([r.box is None for r in results])), 4),
    }
