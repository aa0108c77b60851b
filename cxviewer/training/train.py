"""``cxviewer train``: COVID-CXNet training on a labelled folder, resumable, one checkpoint per epoch.

Layout of ``out``: ``checkpoints/last.keras`` + ``checkpoints/state.json`` (resume),
``weights.weights.h5`` (best epoch by validation macro AUC, a figure one class cannot fool),
``train_log.jsonl`` (one line per epoch), then ``card.json``/``card.md`` written by evaluation.
Early stopping watches validation loss.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cxviewer.model.preprocess import prepare
from cxviewer.training.dataset import TRAINING_LABELS, Sample, label_indices, read_manifest, split_by_patient

WEIGHTS_FILE = "weights.weights.h5"


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


def prepared_stack(images: list[np.ndarray], input_size: int, standardise: str | None = None,
                   spectrum_template=None, lung_masks: list[np.ndarray] | None = None) -> np.ndarray:
    """The network inputs of these films; with ``lung_masks`` each sees only its lungs (an all-lung mask: the
    segmenter found none, and the whole film is seen, as in the app)."""
    masks = lung_masks if lung_masks is not None else [None] * len(images)
    return np.stack([prepare(img, input_size, standardise=standardise, spectrum_template=spectrum_template,
                             lung_mask=window_mask(m))[0]
                     for img, m in zip(images, masks)])


def window_mask(mask: np.ndarray | None) -> np.ndarray | None:
    """The lung mask a view is windowed by, or None for the whole film: where the segmenter found no lungs
    :func:`lung_crops_and_masks` gives an all-lung mask, and the app then shows the model the whole film."""
    return None if mask is None or mask.all() else mask


def spectrum_template_of(images: list[np.ndarray], input_size: int) -> list[float]:
    """The 'equalize_hist+spectrum' template of these (training) films: the mean radial log amplitude of each
    film as the network would get it before the spectrum step (resized, histogram equalised: the 'original'
    channel of :func:`prepare`)."""
    from cxviewer.model.spectrum import template_of

    grey = (np.rint(prepare(img, input_size, standardise="equalize_hist")[0][..., 2] * 255.0).astype(np.uint8)
            for img in images)
    return template_of(grey)


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
    crops, _, rate = lung_crops_and_masks(images, lung_model)
    return crops, rate


def lung_crops_and_masks(images: list[np.ndarray], lung_model: str | Path
                         ) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """:func:`lung_crops`, with each crop's lung mask (uint8 0/1, the segmenter's, undilated) on the crop's
    pixel grid; where no plausible lungs are found the whole film counts as lung (no attention target)."""
    from cxviewer.model.segmenter import load_segmenter

    seg = load_segmenter(lung_model)
    out, masks, found = [], [], 0
    for i in range(0, len(images), 64):
        chunk = images[i : i + 64]
        for img, res in zip(chunk, seg.segment_many(chunk)):
            if res.box is None:
                out.append(img)
                masks.append(np.ones(img.shape, np.uint8))
                continue
            y0, x0, y1, x1 = res.box
            out.append(np.ascontiguousarray(img[y0:y1, x0:x1]))
            masks.append(np.ascontiguousarray(res.mask[y0:y1, x0:x1]))
            found += 1
    return out, masks, found / max(1, len(images))


def balanced_class_weights(indices: np.ndarray, n: int) -> dict[int, float]:
    counts = np.bincount(indices, minlength=n)
    return {k: float(len(indices) / (n * counts[k])) for k in range(n)}


@dataclass
class TrainingData:
    """What one run trains and validates on, read once: films (lung-cropped when asked), labels, loss weights."""

    splits: dict[str, list[Sample]]
    train_images: list[np.ndarray]
    train_labels: np.ndarray
    sample_weights: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    monitor: tuple[np.ndarray, np.ndarray] | None
    crop_rate: dict[str, float] | None
    train_masks: list[np.ndarray] | None = None
    spectrum_template: list[float] | None = None


def load_training_data(data_dir: str | Path, seed: int, size: int, lung_model: str | Path | None,
                       standardise: str | None, balance_views: bool, monitor_dir: str | Path | None,
                       log=print, with_masks: bool = False, lung_window: bool = False) -> TrainingData:
    """The patient-level split of ``data_dir``, its readable films, their loss weights and the validation inputs."""
    splits = split_by_patient(read_manifest(data_dir), seed=seed)
    train_s, val_s = splits["train"], splits["val"]
    log(f"split by patient: train {len(train_s)}, val {len(val_s)}, test {len(splits['test'])} images")
    train_s, train_imgs = load_readable(train_s, log)
    val_s, val_imgs = load_readable(val_s, log)
    crop_rate, train_masks, val_masks, mon_masks = None, None, None, None
    if lung_window and not lung_model:
        raise ValueError("seeing only the lungs needs the lung segmenter (--lung-model)")
    if lung_model:
        train_imgs, train_masks, train_rate = lung_crops_and_masks(train_imgs, lung_model)
        val_imgs, val_masks, val_rate = lung_crops_and_masks(val_imgs, lung_model)
        crop_rate = {"train": train_rate, "val": val_rate}
        log(f"lung crop found for {train_rate:.1%} of training and {val_rate:.1%} of validation films")
    template = None
    if standardise == "equalize_hist+spectrum":
        template = spectrum_template_of(train_imgs, size)
        log(f"spectrum template: the mean of {len(train_imgs)} training films")
    monitor = None
    if monitor_dir:
        mon_s, mon_imgs = load_readable(read_manifest(monitor_dir), log)
        if lung_model:
            mon_imgs, mon_masks, _ = lung_crops_and_masks(mon_imgs, lung_model)
        monitor = (prepared_stack(mon_imgs, size, standardise, template, mon_masks if lung_window else None),
                   label_indices(mon_s, TRAINING_LABELS))
        log(f"monitoring {len(mon_s)} films of {monitor_dir} (predicted and logged only)")
    train_y = label_indices(train_s, TRAINING_LABELS)
    n = len(TRAINING_LABELS)
    if balance_views:
        sample_w = view_balanced_weights(train_y, [view_group(s.view) for s in train_s], n)
    else:
        cw = balanced_class_weights(train_y, n)
        sample_w = np.array([cw[k] for k in train_y], dtype=np.float32)
    return TrainingData(splits=splits, train_images=train_imgs, train_labels=train_y, sample_weights=sample_w,
                        val_x=prepared_stack(val_imgs, size, standardise, template, val_masks if lung_window else None),
                        val_y=label_indices(val_s, TRAINING_LABELS), monitor=monitor, crop_rate=crop_rate,
                        train_masks=train_masks if with_masks or lung_window else None, spectrum_template=template)


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
    style_randomise: bool | str | None = False,
    attention_penalty: float = 0.0,
    mask_outside_lungs: bool = False,
    consistency: float = 0.0,
    log=print,
) -> dict:
    """Train (or resume) one run.

    ``train_size`` < ``input_size`` trains at a lower resolution (progressive resizing: the network is
    fully convolutional, so a later run at ``input_size`` started with ``init_weights`` fine-tunes it).
    ``lung_model`` (a lung segmenter's folder) trains on the lung crop the app will make at inference:
    each film is cut to its dilated lung box once, before augmentation.
    ``standardise`` equalises each input's histogram (see :func:`preprocess.prepare`); ``balance_views``
    weights AP and PA films equally within each class (:func:`view_balanced_weights`); ``style_randomise``
    adds :func:`augment.style` (blur or unsharp masking, CLAHE, noise) to every class, or one part of a look
    (``"sharpness"``, ``"local-contrast"``: :data:`augment.STYLES`). ``monitor_dir``
    (a labelled folder from other sources) is only predicted and logged each epoch, never trained or
    fitted on, and every epoch's weights are kept under ``checkpoints/`` so a checkpoint can be chosen.
    ``attention_penalty`` (needs ``lung_model``) adds that weight times the share of the Grad-CAM map
    outside the lungs to the loss (:mod:`cxviewer.training.lung_attention`). ``mask_outside_lungs`` (needs
    ``lung_model``) shows the network only the lungs: every input multiplied by its lung window
    (:func:`cxviewer.model.lung_mask.lung_window`), as the app then does. ``consistency`` (needs ``lung_model``:
    it trains through the same loss as the penalty) gives each film two views, one framing with two looks, and adds
    that weight times the Jensen-Shannon divergence of their predictions to the loss
    (:class:`cxviewer.training.lung_attention.LungAttentionTrainer`).
    """
    from cxviewer.model.runtime import import_tensorflow

    tf = import_tensorflow()
    from cxviewer.training import train_loop

    size = train_size or input_size
    files = train_loop.RunFiles(Path(out_dir))
    files.checkpoints.mkdir(parents=True, exist_ok=True)
    if standardise == "equalize_hist+spectrum" and size != input_size:
        raise ValueError("the spectrum template is made at the training size: train at --input-size itself")
    if attention_penalty and not lung_model:
        raise ValueError("the attention penalty needs the lung segmenter (--lung-model): it penalises the map outside the lungs")
    if consistency and not lung_model:
        raise ValueError("the consistency loss needs the lung segmenter (--lung-model): it trains with the attention loss")
    own_loss = bool(attention_penalty or consistency)
    data = load_training_data(data_dir, seed, size, lung_model, standardise, balance_views, monitor_dir, log,
                              with_masks=own_loss, lung_window=mask_outside_lungs)
    n = len(TRAINING_LABELS)
    batches = train_loop.AugmentedBatches(data.train_images, data.train_labels, data.sample_weights, n, batch_size,
                                          seed, size, standardise, style_randomise, masks=data.train_masks,
                                          spectrum_template=data.spectrum_template, lung_window=mask_outside_lungs,
                                          attention_cells=own_loss, pairs=bool(consistency))
    state, model = _resume_or_build(files, resume, size, n, seed, len(batches), epochs, learning_rate, warmup_epochs,
                                    init_weights, log)
    started = time.monotonic() - state["seconds"]
    forward = tf.function(lambda x: model(x, training=False))
    if state["epoch"] + 1 < epochs and state["bad_epochs"] < patience:
        epoch_end = train_loop.EpochEnd(model, forward, batches, files, state, started, (data.val_x, data.val_y),
                                        data.monitor, patience, max_minutes, log)
        fitted = model
        if own_loss:
            fitted = train_loop.attention_trainer(model, attention_penalty, len(batches), epochs, learning_rate,
                                                  warmup_epochs, steps_done=len(batches) * (state["epoch"] + 1),
                                                  consistency=consistency)
        fitted.fit(batches, epochs=epochs, initial_epoch=state["epoch"] + 1, callbacks=[epoch_end], verbose=2)
    from cxviewer.model.network import ARCHITECTURE

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
        "split_sizes": {k: len(v) for k, v in data.splits.items()},
        "lung_model": str(lung_model) if lung_model else None,
        "lung_crop_rate": data.crop_rate,
        "standardise": standardise,
        "spectrum_template": data.spectrum_template,
        "mask_outside_lungs": mask_outside_lungs,
        "balance_views": balance_views,
        "style_randomise": style_randomise,
        "attention_penalty": attention_penalty,
        "consistency": consistency,
    }
    (files.out / "train_summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def _resume_or_build(files, resume: bool, size: int, n: int, seed: int, steps: int, epochs: int,
                     learning_rate: float, warmup_epochs: float, init_weights, log):
    """The saved state and model of an interrupted run, else a fresh state, a new model and an empty log."""
    import keras

    from cxviewer.training import train_loop

    if resume and files.state.exists() and files.last.exists():
        state = json.loads(files.state.read_text())
        model = keras.models.load_model(files.last)
        log(f"resuming after epoch {state['epoch'] + 1}")
        return state, model
    model = train_loop.build_model(size, n, seed, steps, epochs, learning_rate, warmup_epochs, init_weights, log)
    files.log.unlink(missing_ok=True)
    return train_loop.fresh_state(), model
