"""Measure a trained lung segmenter and write its model card (``card.json`` + ``card.md``)."""

from __future__ import annotations

import platform
from collections import defaultdict
from pathlib import Path

import numpy as np

from cxviewer.model.card import save_card
from cxviewer.model.lung_mask import DILATE_ITERATIONS, DILATE_KERNEL, MARGIN, MAX_AREA, MIN_AREA, MIN_SPAN
from cxviewer.training.dataset import read_manifest, split_by_patient
from cxviewer.training.train import load_grey

NAME = "lung-unet"


def coverage_by_source(segmenter, data_dir, seed: int = 20201, batch: int = 64) -> dict:
    """On every held-out image (val + test patients, masked or not): how often the mask is plausible
    enough to crop, and the median lung share of the film, per source and label. Only the ieee8023
    films have reference masks, so this is the only figure there is for the NIH and COVID-CXNet films."""
    splits = split_by_patient(read_manifest(data_dir), seed=seed)
    samples = splits["val"] + splits["test"]
    stats = defaultdict(lambda: {"n": 0, "cropped": 0, "lung_share": []})
    for i in range(0, len(samples), batch):
        chunk = samples[i : i + batch]
        for s, r in zip(chunk, segmenter.segment_many([load_grey(s.path) for s in chunk])):
            st = stats[f"{s.source} / {s.label}"]
            st["n"] += 1
            st["cropped"] += r.box is not None
            st["lung_share"].append(float(r.mask_small.mean()))
    return {
        k: {"n": v["n"], "crop_rate": round(v["cropped"] / v["n"], 3), "median_lung_share": round(float(np.median(v["lung_share"])), 3)}
        for k, v in sorted(stats.items())
    }


def write_lung_card(data_dir, out_dir, summary: dict, version: str = "1.0.0") -> dict:
    from cxviewer.model.card import ModelCard
    from cxviewer.model.segmenter import LungSegmenter
    from cxviewer.training.train_lungs import WEIGHTS_FILE, held_out_dice

    out = Path(out_dir)
    data = {
        "name": NAME,
        "version": version,
        "kind": "segmentation",
        "architecture": summary["architecture"],
        "architecture_text": "compact U-Net: 4 levels of 2 x (3x3 conv + BatchNorm + ReLU), 16-256 filters, transposed-conv up-sampling with skips, 1 sigmoid channel; about 1.9 M parameters, trained from scratch",
        "weights": WEIGHTS_FILE,
        "labels": ["lung"],
        "input": {
            "size": summary["input_size"],
            "source": "the default display of the radiograph as 8-bit grey (as for the classifier)",
            "preprocessing": "histogram equalisation, resize to the square input (aspect not kept), divided by 255, one channel",
        },
        "postprocessing": {
            "threshold": 0.5,
            "components": "the two largest blobs, plus any blob at least a fifth of the largest",
            "crop": f"dilate {DILATE_KERNEL}x{DILATE_KERNEL} x{DILATE_ITERATIONS} at the segmenter's resolution, bounding box, {int(MARGIN * 100)} % margin each side",
            "plausible_mask": f"lungs cover {int(MIN_AREA * 100)}-{int(MAX_AREA * 100)} % of the film and span at least {int(MIN_SPAN * 100)} % of its height and width; otherwise no crop",
        },
        "intended_use": "Finding the lung fields on adult frontal chest radiographs: the classifier's crop and the viewer's lung outline. Not for measuring lung volumes or lesions.",
        "training": {
            "command": f"cxviewer train-lungs --data {data_dir} --out {out_dir} --input-size {summary['input_size']} --epochs {summary['epochs_run']}",
            "summary": f"{summary['epochs_run']} epochs, best by validation Dice at epoch {summary['best_epoch']}; Adam {summary['learning_rate']} with cosine decay, batch {summary['batch_size']}, BCE + soft Dice; augmentations: rotation +-10 deg, zoom 0.85-1.15, shift +-8 %, mirror, gamma/contrast/brightness; {summary['train_seconds'] / 60:.0f} min on a {platform.machine()} CPU",
            "data": "the 120 ieee8023-covid-chestxray-dataset films of ../shared/data/cxr that have lung masks (licences CC BY 4.0, CC BY-NC-SA, CC BY-NC-SA 4.0 and others per image, see the folder's ATTRIBUTION.md)",
            "split": f"the classifier's own patient split (seed {summary['seed']}): masked images train {summary['split_sizes']['train']}, val {summary['split_sizes']['val']}, test {summary['split_sizes']['test']}",
        },
    }
    save_card(out, data)
    seg = LungSegmenter(ModelCard(out, data))
    data["metrics"] = {
        "test_dice": held_out_dice(seg, data_dir, summary["seed"]),
        "best_val_dice": round(summary["best_val_dice"], 4),
        "held_out_coverage_by_source": coverage_by_source(seg, data_dir, summary["seed"]),
    }
    data["failure_modes"] = [
        "Trained on 90 COVID-19 films from one public collection (ieee8023, mostly images from papers and web pages): on other sources there is no reference mask, so only the plausibility rate by source is known.",
        "Dense consolidation and large effusions can be left out of the mask (they do not look like aerated lung); the dilation and margin make the crop forgiving, not the outline.",
        "Lateral views, children, rotated or upside-down films are outside its training data; an implausible mask means the classifier sees the whole film.",
    ]
    save_card(out, data)
    write_lung_markdown(out, data)
    return data


def write_lung_markdown(out: Path, data: dict) -> None:
    m = data["metrics"]
    d = m["test_dice"]
    rows = "\n".join(f"| {k} | {v['n']} | {v['crop_rate']:.3f} | {v['median_lung_share']:.3f} |" for k, v in m["held_out_coverage_by_source"].items())
    text = f"""# {data['name']} {data['version']} — lung segmentation

{data['architecture_text']}. Input: {data['input']['preprocessing']}, {data['input']['size']} px.

**Use:** {data['intended_use']}

## Training
- {data['training']['summary']}.
- Data: {data['training']['data']}.
- Split: {data['training']['split']}.
- Command: `{data['training']['command']}`

## Held-out figures (test patients, masks at the image's own resolution)
- Dice mean {d['dice_mean']:.3f}, median {d['dice_median']:.3f}, worst {d['dice_min']:.3f} (n = {d['n']}); best validation Dice {m['best_val_dice']:.3f}.
- Test films whose mask was too implausible to crop: {d['no_crop_rate'] * 100:.1f} %.

## Every held-out film (val + test patients), by source and label
No reference masks exist outside ieee8023, so this says only how often the mask was plausible enough to crop, and how much of the film it covered.

| source / label | n | crop rate | median lung share |
|---|---|---|---|
{rows}

## Post-processing
""" + "\n".join(f"- {k}: {v}" for k, v in data["postprocessing"].items()) + """

## Known failure modes
""" + "\n".join(f"- {f}" for f in data["failure_modes"]) + "\n"
    (out / "card.md").write_text(text, encoding="utf-8")
