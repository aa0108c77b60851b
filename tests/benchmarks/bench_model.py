"""Model benchmarks: one file to probabilities + Grad-CAM, and batch scan throughput."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import CXR_DIR, DICOM_DIR, REPO, emit, median, model_dir, result, skipped

SCAN_IMAGES = 64
SCAN_BATCH = 16


def _classifier(model_arg):
    folder = model_dir(model_arg)
    if folder is None:
        return None
    from cxviewer.model import load_classifier

    return load_classifier(folder)


def inference_end_to_end(repeats: int, model: str | None = None, **_) -> None:
    target = "ratio <= 2"
    clf = _classifier(model)
    if clf is None:
        emit(skipped("inference_end_to_end", "ms", target, "no model installed"))
        return
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image

    path = DICOM_DIR / "RG1_UNCR.dcm"
    tensor = clf.prepare(model_image(read_radiograph(path)))[0][np.newaxis]
    stages: dict[str, list[float]] = {"read": [], "display": [], "predict": [], "prepare": [], "segment": []}

    def full() -> float:
        t0 = time.perf_counter()
        rad = read_radiograph(path)
        t1 = time.perf_counter()
        u8 = model_image(rad)
        t2 = time.perf_counter()
        p = clf.predict(u8, gradcam=True)
        t3 = time.perf_counter()
        assert p.heatmap is not None and p.heatmap.shape == rad.pixels.shape
        stages["read"].append(t1 - t0)
        stages["display"].append(t2 - t1)
        stages["predict"].append(t3 - t2)
        return t3 - t0

    def forward() -> float:
        t0 = time.perf_counter()
        clf.predict_prepared(tensor)
        return time.perf_counter() - t0

    def prep() -> None:
        u8 = model_image(read_radiograph(path))
        t0 = time.perf_counter()
        clf.prepare(u8)  # a cropping model segments here too
        stages["prepare"].append(time.perf_counter() - t0)
        if clf.segmenter is not None:  # the lung mask (outline; crop for a cropping model), part of predict
            t0 = time.perf_counter()
            clf.segmenter.segment(u8)
            stages["segment"].append(time.perf_counter() - t0)

    for _ in range(2):  # traces both compiled functions
        full(), forward()
    for k in stages:
        stages[k].clear()
    ours, floor = [], []
    for _ in range(repeats):
        ours.append(full())
        floor.append(forward())
    for _ in range(min(repeats, 3)):
        prep()
    emit(result("inference_end_to_end", median(ours) * 1000, "ms", median(floor) * 1000, target,
                case="RG1_UNCR", model=clf.card.title, device=clf.device, input_size=clf.card.input_size,
                lung_crop=bool(clf.crops),
                baseline_is="predict_prepared on one prepared input",
                **{f"{k}_ms": median(v) * 1000 for k, v in stages.items() if v}))


def scan_folder(root: Path, n: int = SCAN_IMAGES) -> list[Path]:
    """Copy ``n`` real chest JPEGs, spread over the three classes, into ``root``."""
    files = sorted(CXR_DIR.glob("*/*.jpg"))
    step = max(1, len(files) // n)
    chosen = files[::step][:n]
    root.mkdir(parents=True, exist_ok=True)
    for src in chosen:
        shutil.copy2(src, root / f"{src.parent.name}_{src.name}")
    return chosen


def batch_scan_throughput(repeats: int, model: str | None = None, cli: bool = True, **_) -> None:
    target = "ratio >= 0.8"
    clf = _classifier(model)
    if clf is None:
        emit(skipped("batch_scan_throughput", "images/s", target, "no model installed"))
        return
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image
    from cxviewer.scan import ScanOptions, run_scan

    with tempfile.TemporaryDirectory(prefix="cxbench-scan-") as tmp:
        folder = Path(tmp) / "images"
        scan_folder(folder)
        files = sorted(folder.iterdir())
        tensors = np.stack([clf.prepare(model_image(read_radiograph(p)))[0] for p in files])
        options = ScanOptions(batch_size=SCAN_BATCH)

        def scan() -> float:
            rows = []
            t0 = time.perf_counter()
            summary = run_scan([folder], rows.append, classifier=clf, options=options)
            elapsed = time.perf_counter() - t0
            # every file went through the model (the out-of-distribution gate may flag a few)
            assert len(rows) == len(files) and all(r.model for r in rows), summary.text()
            return len(files) / elapsed

        def model_only() -> float:
            t0 = time.perf_counter()
            for i in range(0, len(tensors), SCAN_BATCH):
                clf.predict_prepared(tensors[i:i + SCAN_BATCH])
            return len(tensors) / (time.perf_counter() - t0)

        scan(), model_only()  # warm-up: traces the batch shape, fills the page cache
        ours, floor = [], []
        for _ in range(repeats):
            ours.append(scan())
            floor.append(model_only())
        extra = {}
        if cli:
            extra["cli_images_per_s_incl_model_load"] = _cli_scan_rate(folder, len(files), model)
        emit(result("batch_scan_throughput", median(ours), "images/s", median(floor), target,
                    images=len(files), batch_size=SCAN_BATCH, workers=options.workers, model=clf.card.title,
                    forward_chunk=getattr(clf, "chunk", None),
                    baseline_is=f"predict_prepared on ready tensors, batches of {SCAN_BATCH}", **extra))


def _cli_scan_rate(folder: Path, n: int, model: str | None) -> float | None:
    """Images/s of the real command, model loading (TensorFlow import) included; one run."""
    with tempfile.TemporaryDirectory(prefix="cxbench-cli-") as out:
        cmd = [sys.executable, "-m", "cxviewer", "scan", str(folder), "-o", str(Path(out) / "r.csv"),
               "--batch-size", str(SCAN_BATCH)]
        if model:
            cmd += ["--model", model]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            return None
        return n / elapsed
