"""Fit and calibrate the out-of-distribution gate of a trained model, and measure it.

Features come from the app's own inference path (default display -> prepare -> network).
Fitted on the training patients, threshold calibrated on the validation patients, then
measured on the test patients (should pass) and on out-of-scope inputs (should be refused):
non-chest radiographs, colour photographs, documents, noise, upside-down and heavily cropped films.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cxviewer.model.dataset import read_manifest, split_by_patient
from cxviewer.model.ood import calibrate, fit_gate
from cxviewer.model.train import load_grey

GATE_FILE = "ood.npz"
NON_CHEST_DICOM = ("RG2_J2KR.dcm", "RG2_RLE.dcm", "RG3_J2KI.dcm", "RG3_JLSN.dcm", "CR-ModalitySequenceLUT.dcm", "CR_tiny_1.dcm")


def _features(clf, images: list[np.ndarray], batch: int = 32) -> np.ndarray:
    out = []
    for i in range(0, len(images), batch):
        tensors = np.stack([clf.prepare(img)[0] for img in images[i : i + batch]])
        out.append(clf._run_forward(tensors)[1])
    return np.concatenate(out)


def synthetic_out_of_scope(rng: np.random.Generator, chest_images: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Inputs a chest classifier must refuse, built from scratch or from chest films."""
    photos, documents, noise = [], [], []
    for i in range(12):
        # a colour "photograph" turned grey the way the viewer would show it: smooth blobs and edges
        img = cv2.GaussianBlur(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), (0, 0), 3)
        img = cv2.resize(img, (640, 480), interpolation=cv2.INTER_CUBIC)
        cv2.circle(img, (int(rng.integers(100, 540)), int(rng.integers(100, 380))), int(rng.integers(30, 120)), tuple(int(c) for c in rng.integers(0, 256, 3)), -1)
        photos.append(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
        doc = np.full((600, 460), 245, np.uint8)
        for line in range(int(rng.integers(15, 30))):
            cv2.putText(doc, "".join(rng.choice(list("abcdefghij klmnop")) for _ in range(28)), (20, 30 + line * 19), 0, 0.5, 20, 1, cv2.LINE_AA)
        documents.append(doc)
        noise.append(rng.integers(0, 256, (400, 400), dtype=np.uint8))
    upside_down = [np.ascontiguousarray(img[::-1]) for img in chest_images]
    h_cropped = [img[int(img.shape[0] * 0.35) : int(img.shape[0] * 0.65), int(img.shape[1] * 0.35) : int(img.shape[1] * 0.65)] for img in chest_images]
    return {"photo": photos, "document": documents, "noise": noise, "upside_down_chest": upside_down, "centre_crop_30pct_chest": h_cropped}


def fit_and_measure(clf, data_dir: str | Path, seed: int, dicom_dir: str | Path | None = None, log=print) -> dict:
    splits = split_by_patient(read_manifest(data_dir), seed=seed)
    feats = {}
    for name in ("train", "val", "test"):
        feats[name] = _features(clf, [load_grey(s.path) for s in splits[name]])
        log(f"features for {name}: {feats[name].shape}")
    labels = np.array([s.label_index for s in splits["train"]])
    gate = calibrate(fit_gate(feats["train"], labels), feats["val"])
    gate.save(clf.card.directory / GATE_FILE)
    rejected = {}
    rng = np.random.default_rng(seed)
    chest = [load_grey(s.path) for s in splits["test"][:40]]
    for kind, images in synthetic_out_of_scope(rng, chest).items():
        rejected[kind] = float(np.mean(gate.score(_features(clf, images)) > gate.threshold))
    if dicom_dir is not None and Path(dicom_dir).is_dir():
        from cxviewer.imaging import read_radiograph
        from cxviewer.model.inputs import model_image

        files = [Path(dicom_dir) / f for f in NON_CHEST_DICOM if (Path(dicom_dir) / f).exists()]
        if files:
            scores = gate.score(_features(clf, [model_image(read_radiograph(f)) for f in files]))
            rejected["non_chest_cr_dicom"] = float(np.mean(scores > gate.threshold))
    return {
        "file": GATE_FILE,
        "method": "Mahalanobis distance to the nearest class mean (shared covariance) of pooled DenseNet features, "
        "64-component PCA fitted on the training patients",
        "threshold": gate.threshold,
        "calibration": "99.5th percentile of the validation patients' scores",
        "pass_rate": {
            "val": float(np.mean(gate.score(feats["val"]) <= gate.threshold)),
            "test": float(np.mean(gate.score(feats["test"]) <= gate.threshold)),
        },
        "rejection_rate": rejected,
    }
