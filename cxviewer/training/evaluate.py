"""Held-out evaluation through the app's own inference path, and the model card it writes.

Everything is measured on the test patients of the training split (never seen in training or
model selection): classification figures, and where Grad-CAM puts its mass — inside the lung
masks (for the test images that have one) and in the outer border band, each next to the share
a uniform map would give, so "looks at the lungs" is a measured statement.
"""

from __future__ import annotations

import collections
import json
import platform
import time
from pathlib import Path

import cv2
import numpy as np

from cxviewer.model.attention import border_band, mass_share
from cxviewer.model.card import save_card
from cxviewer.model.network import ARCHITECTURE, GRADCAM_LAYER
from cxviewer.model.preprocess import BEASF_GAMMA, CLAHE_CLIP, CLAHE_TILES
from cxviewer.training.card_calls import calibration_section
from cxviewer.training.dataset import TRAINING_LABELS, label_indices, read_manifest, split_by_patient
from cxviewer.training.metrics import classification_report
from cxviewer.training.train import WEIGHTS_FILE, load_grey

AUGMENTATIONS = [
    "rotation +-7 deg, zoom 0.9-1.15, shift +-6 % (no flips)",
    "gamma 0.7-1.45, contrast 0.75-1.3, brightness +-25",
    "random tight crops (up to 10 % a side) and constant borders (up to 10 %)",
    "letters, panel labels, arrows and L/R side markers painted on images of every class",
    "down/up-scaling (0.3-0.9) and JPEG re-compression (quality 25-95) at random",
]

FAILURE_MODES = [
    "Each class comes mostly from one source (COVID: web pages and papers; normal and pneumonia: one "
    "hospital's PACS, NIH ChestX-ray14). Figures on held-out patients of the same sources overstate what "
    "the model does on radiographs from other hospitals; expect normal films unlike NIH ones to be read as disease.",
    "UNDERTRAINED",
    "ATTENTION",
    "Trained on 8-bit JPEG copies (longer side <= 512 px) of adult frontal films. The out-of-scope rules refuse "
    "photographs, documents, CT slices and non-chest radiographs, and (the film check) nearly all upside-down "
    "films and tight crops of the kinds it was trained on; other alterations (a film rotated 90 degrees, a crop "
    "of one lung), lateral views and children were not tested.",
    "NO_CROP",
    "COVID-19 vs other pneumonia cannot be told apart reliably from a radiograph; the COVID class learned from "
    "2020 web images of mostly severe cases.",
]


def _data_provenance(samples) -> list[dict]:
    counts = collections.Counter((s.source, s.label, s.license) for s in samples)
    return [
        {"source": src, "label": lab, "license": lic, "images": n}
        for (src, lab, lic), n in sorted(counts.items())
    ]


LUNG_CROP_FAILURE = (
    "The lung crop depends on the lung segmenter (see its card): where it finds no plausible pair of lungs "
    "the classifier sees the whole film (the app says so), and a segmenter that misses consolidated lung "
    "can crop part of the finding away (the dilation and 5 % margin make this rare, not impossible)."
)
NO_CROP_FAILURE = "No lung cropping in this version: the classifier sees the whole film, including text, markers and borders."


def _attention_failure(att: dict | None) -> str:
    """What the measured Grad-CAM shares say, in words (the figures decide, not the version)."""
    if not att or att.get("lung_share_mean") is None:
        return "Where Grad-CAM puts its mass was not measured; read the overlay before trusting a call."
    lung, even = att["lung_share_mean"], att.get("lung_share_uniform_over_input_mean") or att["lung_area_fraction_mean"]
    if lung - even < 0.05:
        return (f"Grad-CAM mass is spread about evenly: {lung:.2f} of it falls on the lungs, where a map spread evenly "
                f"over what the model saw would put {even:.2f}. There is no evidence that the model looks at the lungs "
                "rather than at what surrounds them; read the overlay before trusting a call.")
    return (f"Grad-CAM puts {lung:.2f} of its mass on the lungs against {even:.2f} for an even map over what the model "
            f"saw: it leans toward the lungs, measured on only the {att.get('lung_images')} test films with lung masks "
            "(all COVID-19, one source). Read the overlay before trusting a call.")


def failure_modes(lung_crop: bool, attention: dict | None = None, init_note: str | None = None) -> list[str]:
    undertrained = (
        f"Undertrained: DenseNet-121 ({init_note or 'from scratch'}) for a few epochs on a 2-core CPU (see Training). "
        "Other pneumonia is the weakest class; COVID-19 and normal are separated better. Continue training on a GPU "
        "with `cxviewer train --init-weights` before relying on it."
    )
    table = {"NO_CROP": LUNG_CROP_FAILURE if lung_crop else NO_CROP_FAILURE, "UNDERTRAINED": undertrained,
             "ATTENTION": _attention_failure(attention)}
    return [table.get(f, f) for f in FAILURE_MODES]


def crop_spec(lung_model: str | Path) -> dict:
    """The card's ``input.crop``: which segmenter, and what is done with its mask."""
    from cxviewer.model.card import load_card
    from cxviewer.model.lung_mask import DILATE_ITERATIONS, DILATE_KERNEL, MARGIN

    seg = load_card(lung_model)
    return {
        "segmentation_model": seg.name,
        "segmentation_version": seg.version,
        "method": f"lung mask dilated {DILATE_KERNEL}x{DILATE_KERNEL} x{DILATE_ITERATIONS}, bounding box plus "
        f"{int(MARGIN * 100)} % margin, cut from the display image and resized to the input",
        "fallback": "the whole film when the mask is not a plausible pair of lungs (the prediction says 'lungs not found')",
    }


def base_card(name: str, version: str, input_size: int, lung_model: str | Path | None = None,
              standardise: str | None = None, spectrum_template=None, mask_outside_lungs: bool = False) -> dict:
    return {
        "name": name,
        "version": version,
        "default": True,
        "architecture": ARCHITECTURE,
        "architecture_text": "DenseNet-121 (Keras application, trained from scratch: no pretrained weights) -> "
        "global average pooling -> Dense(10, ReLU) -> Dropout(0.2) -> Dense(3, softmax)",
        "weights": WEIGHTS_FILE,
        "labels": list(TRAINING_LABELS),
        "input": {
            "size": input_size,
            "source": "the default display of the radiograph as 8-bit grey (DICOM PS3.3 C.11: modality LUT, "
            "first VOI window or full range, MONOCHROME1 inverted)",
            "resize": f"to {input_size} x {input_size} (INTER_AREA when shrinking), aspect not kept",
            "channels": [
                f"BEASF, gamma {BEASF_GAMMA}",
                f"CLAHE, clip {CLAHE_CLIP}, {CLAHE_TILES[0]} x {CLAHE_TILES[1]} tiles",
                "original",
            ],
            "scale": "divided by 255 (no mean/std normalisation)",
            "crop": crop_spec(lung_model) if lung_model else None,
            "standardise": standardise,
            **({"spectrum_template": list(spectrum_template)} if spectrum_template is not None else {}),
            **({"mask_outside_lungs": True} if mask_outside_lungs else {}),
        },
        "gradcam_layer": GRADCAM_LAYER,
        "intended_use": "Research and teaching: a second look at adult frontal chest radiographs. "
        "Not a medical device; not a diagnosis.",
    }


PREDICTIONS_FILE = "held_out_predictions.csv"


def write_predictions(path: Path, samples, probs: np.ndarray, labels) -> None:
    """One row per test image (its path relative to the data folder, label, source, probabilities): what a
    paired comparison of two models on the same patients needs."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "label", "source"] + [f"p_{k}" for k in labels])
        for s, p in zip(samples, probs):
            w.writerow([f"{s.path.parent.name}/{s.path.name}", s.label, s.source] + [f"{float(v):.6f}" for v in p])


def evaluate(clf, data_dir: str | Path, seed: int, log=print, predictions_path: Path | None = None) -> dict:
    """Held-out figures of a loaded classifier (see the module docstring)."""
    labels = tuple(clf.labels)
    test = split_by_patient(read_manifest(data_dir, labels), seed=seed)["test"]
    from cxviewer.model.attention import lung_attention
    from cxviewer.training.cross_source import attention_summary

    probs, lung, lung_area, lung_uniform, border, times, cropped = [], [], [], [], [], [], []
    unet_attention = []
    band_area = None
    for i, s in enumerate(test):
        img = load_grey(s.path)
        pred = clf.predict(img, gradcam=True, outline=False)
        probs.append(pred.probabilities)
        times.append(pred.elapsed_ms)
        cropped.append(pred.lung_crop == "applied")
        att = lung_attention(pred)
        if att is not None:
            unet_attention.append(att)
        band = border_band(img.shape)
        border.append(mass_share(pred.heatmap, band))
        band_area = float(band.mean())
        if s.mask_path is not None:
            mask = cv2.imread(str(s.mask_path), cv2.IMREAD_GRAYSCALE) > 127
            lung.append(mass_share(pred.heatmap, mask))
            lung_area.append(float(mask.mean()))
            y0, x0, y1, x1 = pred.input_box or (0, 0) + mask.shape
            lung_uniform.append(float(mask[y0:y1, x0:x1].mean()))
        if (i + 1) % 50 == 0:
            log(f"evaluated {i + 1}/{len(test)}")
    probs_a, y_a = np.array(probs), label_indices(test, labels)
    if predictions_path is not None:
        write_predictions(predictions_path, test, probs_a, labels)
    report = classification_report(y_a, probs_a, labels)
    by_source = {}
    for src in sorted({s.source for s in test}):
        idx = [i for i, s in enumerate(test) if s.source == src]
        hits = [int(probs_a[i].argmax() == y_a[i]) for i in idx]
        by_source[src] = {"n": len(idx), "accuracy": float(np.mean(hits))}
    report["accuracy_by_source"] = by_source
    report["attention"] = {
        "lung_share_mean": float(np.nanmean(lung)) if lung else None,
        "lung_share_median": float(np.nanmedian(lung)) if lung else None,
        "lung_area_fraction_mean": float(np.mean(lung_area)) if lung_area else None,
        "lung_share_uniform_over_input_mean": float(np.mean(lung_uniform)) if lung_uniform else None,
        "lung_images": len(lung),
        "border_share_mean": float(np.nanmean(border)),
        "border_area_fraction": band_area,
        "border_images": len(border),
        "note": "share of Grad-CAM mass inside the lung masks (test images with masks: ieee8023 COVID) and in "
        "the outer 10 % border band (all test images); a map spread uniformly over the whole film would give the "
        "area fractions, one spread uniformly over what the model saw (its lung crop) the 'uniform over input' share.",
    }
    report["attention_unet_masks"] = attention_summary(unet_attention)
    if clf.calibration is not None:
        from cxviewer.training.calibration_fit import call_figures

        report["calls"] = call_figures(y_a, clf.calibration.calls(labels, probs_a), labels)
    report["lung_crop_applied_rate"] = float(np.mean(cropped))
    report["latency_ms_median_with_gradcam"] = float(np.median(times))
    report["device"] = clf.device
    return report


def write_markdown(card: dict, path: Path) -> None:
    m = card.get("metrics", {}).get("test", {})
    att = m.get("attention", {})
    pc = m.get("per_class", {})
    cm = m.get("confusion_matrix", {})
    lines = [
        f"# {card['name']} {card['version']}",
        "",
        f"**{card['intended_use']}**",
        "",
        f"- Architecture: {card['architecture_text']}",
        f"- Input: {card['input']['source']}; {card['input']['resize']}; channels: "
        + ", ".join(card["input"]["channels"])
        + f"; {card['input']['scale']}.",
        "- Lung crop: "
        + (f"{card['input']['crop']['method']} (segmenter {card['input']['crop']['segmentation_model']} "
           f"{card['input']['crop']['segmentation_version']}); fallback: {card['input']['crop']['fallback']}."
           if card["input"].get("crop") else "none (the whole film)."),
        f"- Labels: {', '.join(card['labels'])}",
        f"- Training: {card['training']['summary']}",
        "",
        f"## Held-out test patients (n = {m.get('n')})",
        "",
        f"- Macro ROC AUC {m.get('macro_auc', float('nan')):.3f}; accuracy {m.get('accuracy', float('nan')):.3f}; "
        f"balanced accuracy {m.get('balanced_accuracy', float('nan')):.3f}",
        "",
        "| class | recall | precision | AUC | n |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, v in pc.items():
        lines.append(f"| {name} | {v['recall']:.3f} | {v['precision']:.3f} | {v['auc']:.3f} | {v['n']} |")
    if cm:
        lines += ["", "Confusion matrix (rows true, columns predicted: " + ", ".join(cm["labels"]) + "):", ""]
        lines += ["    " + "  ".join(f"{c:4d}" for c in row) for row in cm["rows_true_cols_predicted"]]
    if att:
        lines += [
            "",
            "## Where it looks (Grad-CAM)",
            "",
            f"- Inside the lung masks: {att.get('lung_share_mean') or float('nan'):.2f} of the map's mass on average "
            f"(median {att.get('lung_share_median') or float('nan'):.2f}, n = {att.get('lung_images')}); the lungs cover "
            f"{att.get('lung_area_fraction_mean') or float('nan'):.2f} of those images"
            + (f" and {att['lung_share_uniform_over_input_mean']:.2f} of what the model saw (a map spread evenly over its input "
               "would put that share on the lungs)." if att.get("lung_share_uniform_over_input_mean") is not None else "."),
            f"- In the outer 10 % border band: {att.get('border_share_mean', float('nan')):.2f} of the mass "
            f"(the band is {att.get('border_area_fraction') or float('nan'):.2f} of the image), n = {att.get('border_images')}.",
        ]
    ua = m.get("attention_unet_masks")
    if ua and ua.get("lung_share_mean") is not None:
        lines.append(f"- With the lung segmenter's masks on every held-out film: {ua['lung_share_mean']:.2f} of the mass inside "
                     f"the lungs (n = {ua['images']}); a map spread evenly over what the model saw would put "
                     f"{ua['expected_if_uniform_mean']:.2f} there.")
    if m.get("lung_crop_applied_rate") is not None:
        lines.append(f"- Lung crop applied to {m['lung_crop_applied_rate']:.1%} of the test films (the rest: whole film).")
    lines += calibration_section(card)
    cs = card.get("metrics", {}).get("cross_source")
    if cs:
        from cxviewer.training.cross_source import markdown_section

        lines += [""] + markdown_section(cs, card["labels"])
    if card.get("ablation_md"):
        lines += ["", "## What was tried (ablation)", "", card["ablation_md"]]
    if card.get("comparison_md"):
        lines += ["", "## Compared with the other bundled version (same held-out patients)", "", card["comparison_md"]]
    if card.get("release_note"):
        lines += ["", "## Which version the app runs, and why", "", card["release_note"]]
    ood = card.get("ood")
    if ood:
        lines += [
            "",
            "## Out-of-distribution gate",
            "",
            f"- {ood['method']}; threshold {ood['threshold']:.2f} ({ood['calibration']}).",
            f"- Held-out chest radiographs passing: validation {ood['pass_rate']['val']:.3f}, test {ood['pass_rate']['test']:.3f}."
            + (f" Cross-check: calibrated on validation alone it passes {ood['cross_check']['calibrated_on_val_pass_test']:.3f} "
               f"of test; on test alone, {ood['cross_check']['calibrated_on_test_pass_val']:.3f} of validation."
               if ood.get("cross_check") else ""),
            "- Refused as outside the model's scope: "
            + ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in ood["rejection_rate"].items())
            + ".",
        ]
        by_rule = ood.get("rejection_rate_by_rule")
        if by_rule:
            lines += [
                f"- Film check: refuses when its probability of 'upside down or cut' exceeds {ood['film_check_threshold']:.3f}.",
                "",
                "| input | refused by the distance gate | by the film check | by either (shipped) |",
                "|---|---:|---:|---:|",
            ]
            lines += [f"| {k.replace('_', ' ')} | {v['gate']:.0%} | {v['film_check']:.0%} | {v['either']:.0%} |"
                      for k, v in by_rule.items()]
            lines += ["", f"- {ood['note']}."]
    lines += ["", "## Known failure modes", ""] + [f"- {f}" for f in card["failure_modes"]]
    lines += ["", "## Training data and licences", ""]
    lines += [f"- {d['source']} / {d['label']}: {d['images']} images, {d['license']}" for d in card["training"]["data"]]
    lines += ["", card["training"]["licence_note"], ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def evaluate_and_write_card(data_dir, model_dir, summary: dict, name: str | None = None, version: str = "1.0.0",
                            dicom_dir=None, log=print, held_out: bool = True) -> dict:
    """Write the card of a trained model: its description, the out-of-scope rules fitted and measured and, with
    ``held_out``, the held-out figures (:func:`update_card` measures them instead when it calibrates first)."""
    model_dir = Path(model_dir)
    name = name or model_dir.name
    lung_model = summary.get("lung_model")
    card = base_card(name, version, summary["input_size"], lung_model, summary.get("standardise"),
                     summary.get("spectrum_template"), bool(summary.get("mask_outside_lungs")))
    samples = read_manifest(data_dir)
    stages = summary.get("stages")
    if stages:
        stage_text = "; ".join(
            f"{st['epochs']} epoch(s) at {st['train_size']} px (peak lr {st['learning_rate']})" for st in stages
        )
        how = f"progressive resizing, {stage_text}"
    else:
        how = f"{summary['epochs_run']} epochs (best by validation macro AUC: epoch {summary['best_epoch']})"
    card["training"] = {
        "summary": f"{how}; {summary['train_seconds'] / 60:.0f} min on a 2-core {platform.machine()} CPU "
        f"({summary.get('init_note', 'DenseNet-121 from scratch, no pretrained weights')}); Adam with warm-up and cosine decay, batch "
        f"{summary['batch_size']}, label smoothing 0.1, balanced class weights, BatchNorm momentum 0.9, "
        "augmentations below; checkpoint per epoch chosen by validation macro AUC.",
        "command": f"cxviewer train --data <cxr> --out models/{name} --input-size {summary['input_size']} --seed {summary['seed']}",
        "split": "by patient (COVID-CXNet images have no patient IDs: one group each, near-duplicate pairs kept together), "
        f"70/15/15, seed {summary['seed']}: " + ", ".join(f"{k} {v}" for k, v in summary["split_sizes"].items()),
        "augmentations": AUGMENTATIONS,
        "data": _data_provenance(samples),
        "licence_note": "The weights are derived from these images; part of the ieee8023 images are CC BY-NC-SA, "
        "so treat the weights as non-commercial research material under the same terms.",
        **summary,
    }
    card["failure_modes"] = failure_modes(bool(lung_model), None, summary.get("init_note"))
    save_card(model_dir, card)  # loadable card first: evaluation runs through the app's own loader
    from cxviewer.model.classifier import load_classifier
    from cxviewer.training.ood_fit import fit_and_measure

    clf = load_classifier(model_dir)
    card["metrics"] = {"validation_best_macro_auc": summary["best_val_macro_auc"], "predictions_file": PREDICTIONS_FILE}
    if held_out:
        t0 = time.monotonic()
        test = evaluate(clf, data_dir, summary["seed"], log=log, predictions_path=model_dir / PREDICTIONS_FILE)
        card["metrics"]["test"] = test
        card["metrics"]["evaluation_seconds"] = round(time.monotonic() - t0, 1)
        card["failure_modes"] = failure_modes(bool(lung_model), test.get("attention"), summary.get("init_note"))
    card["ood"] = fit_and_measure(clf, data_dir, summary["seed"], dicom_dir=dicom_dir, log=log)
    save_card(model_dir, card)
    if held_out:
        write_markdown(card, model_dir / "card.md")
        log(json.dumps(card["metrics"]["test"], indent=1))
    return card


def refit_scope_rules(data_dir, model_dir, dicom_dir=None, log=print) -> dict:
    """Fit the out-of-scope rules of an evaluated model again (after they changed), keeping its other figures."""
    from cxviewer.model.card import load_card
    from cxviewer.model.classifier import Classifier
    from cxviewer.training.ood_fit import fit_and_measure

    card = load_card(model_dir)
    data = dict(card.data)
    data.pop("ood", None)  # the classifier must not load the old rules while their features are computed
    clf = Classifier(type(card)(card.directory, data))
    data["ood"] = fit_and_measure(clf, data_dir, data["training"]["seed"], dicom_dir=dicom_dir, log=log)
    data["failure_modes"] = failure_modes(bool(data["input"].get("crop")), data.get("metrics", {}).get("test", {}).get("attention"),
                                          data["training"].get("init_note"))
    save_card(model_dir, data)
    write_markdown(data, Path(model_dir) / "card.md")
    return data["ood"]


CALL_TARGET_ACCURACY = 0.85


def validation_probabilities(clf, data_dir, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and the model's probabilities (as computed now: calibration off for fitting) on the validation patients."""
    val = split_by_patient(read_manifest(data_dir, tuple(clf.labels)), seed=seed)["val"]
    probs = []
    for i in range(0, len(val), 16):
        imgs = [load_grey(s.path) for s in val[i : i + 16]]
        probs += [p.probabilities for p in clf.predict_batch(imgs)]
    return label_indices(val, tuple(clf.labels)), np.array(probs, dtype=np.float64)


def update_card(data_dir, model_dir, cross_source_dir=None, calibrate: bool = True, held_out: bool = True,
                target_accuracy: float = CALL_TARGET_ACCURACY, log=print) -> dict:
    """Refit the calibration (validation patients), re-measure the held-out patients and the cross-source folder
    through the calibrated model, and rewrite the card; the out-of-scope rules and training record are kept."""
    from cxviewer.model.calibration import Calibration
    from cxviewer.model.card import load_card
    from cxviewer.model.classifier import Classifier
    from cxviewer.training.calibration_fit import fit_calibration
    from cxviewer.training.cross_source import PREDICTIONS_FILE as CS_FILE
    from cxviewer.training.cross_source import evaluate_folder

    model_dir = Path(model_dir)
    card = load_card(model_dir)
    data = dict(card.data)
    seed = data["training"]["seed"]
    clf = Classifier(card)
    if calibrate:
        clf.calibration = None
        y_val, raw = validation_probabilities(clf, data_dir, seed)
        data["calibration"] = fit_calibration(y_val, raw, target_accuracy, tuple(clf.labels))
        clf.calibration = Calibration.from_card(data["calibration"])
        log(f"calibration: {json.dumps(data['calibration']['call'])} T={data['calibration']['temperature']}")
    metrics = dict(data.get("metrics", {}))
    if held_out:
        test = evaluate(clf, data_dir, seed, log=log, predictions_path=model_dir / PREDICTIONS_FILE)
        metrics["test"] = test
        data["failure_modes"] = failure_modes(bool(data["input"].get("crop")), test.get("attention"),
                                              data["training"].get("init_note"))
    if cross_source_dir:
        metrics["cross_source"] = evaluate_folder(clf, cross_source_dir, log=log, predictions_path=model_dir / CS_FILE)
    data["metrics"] = metrics
    save_card(model_dir, data)
    write_markdown(data, model_dir / "card.md")
    return data
