"""The LiteRT path against its floors (issue: "AI answer in a blink").

- ``cold_predict``: a new ``cxviewer predict FILE --json`` process, vs a new ``python -c "import numpy, pydicom"``.
- ``inference_litert``: file to probabilities + Grad-CAM on the LiteRT runtime, vs a bare LiteRT
  interpreter's forward pass of the same ``model.tflite`` on one prepared input.
- ``scan_litert``: images/s of ``run_scan`` on the LiteRT runtime, vs the bare interpreter on ready
  tensors in batches of 16.
- ``first_ai_result_and_quit``: ``cxviewer --smoke-test`` (the sample opened in the real window):
  launch to the first AI result, and from the quit to the process's end.

The bare interpreters are built here, from ``ai_edge_litert`` alone (XNNPACK, one thread per core),
with nothing of CXViewer around them. For a model that crops to the lungs, each figure is also
given against both networks' bare forward passes (classifier + lung segmenter), the work the
pipeline cannot avoid, with ``met_vs_both_networks`` for the same target: ``met`` stays the target
against the classifier alone, which such a model cannot reach (its segmenter's forward pass alone
costs about twice the classifier's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import DICOM_DIR, REPO, check_target, emit, interleaved, interleaved_all, median, model_dir, result, skipped
from bench_model import SCAN_BATCH, scan_folder

FILM = DICOM_DIR / "RG1_UNCR.dcm"


def _litert_classifier(model_arg):
    folder = model_dir(model_arg)
    if folder is None:
        return None, "no model installed"
    from cxviewer.model import ModelCardError, load_classifier

    try:
        return load_classifier(folder, "litert"), None
    except ModelCardError as exc:
        return None, str(exc)


def _bare(card, channels_last_input: np.ndarray):
    """A bare LiteRT forward of ``card``'s model.tflite: a callable on an (N, S, S, C) float32 array."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(card.directory / card.data["litert"]["file"]),
                              num_threads=os.cpu_count() or 1)
    runner = interpreter.get_signature_runner(next(iter(interpreter.get_signature_list())))
    runner(image=channels_last_input)  # allocates for this shape
    return lambda x: runner(image=x)


def cold_predict(repeats: int, model: str | None = None, **_) -> None:
    target = "ratio <= 6"
    env = dict(os.environ)
    env.pop("CXVIEWER_RUNTIME", None)
    cmd = [sys.executable, "-m", "cxviewer", "predict", str(FILM), "--json"] + (["--model", model] if model else [])
    answers = []

    def ours() -> float:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        elapsed = time.perf_counter() - t0
        assert proc.returncode == 0, proc.stderr[-2000:]
        answers.append(json.loads(proc.stdout))
        return elapsed

    def floor() -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy, pydicom"], check=True, env=env)
        return time.perf_counter() - t0

    xs, ys = interleaved(ours, floor, repeats)
    last = answers[-1]
    emit(result("cold_predict", median(xs) * 1000, "ms", median(ys) * 1000, target, case="RG1_UNCR",
                runtime=last.get("runtime"), device=last.get("device"), model=last.get("model"),
                timing_ms=last.get("timing_ms"), baseline_is='python -c "import numpy, pydicom" (new process)'))


def inference_litert(repeats: int, model: str | None = None, **_) -> None:
    target = "ratio <= 1.5"
    clf, why = _litert_classifier(model)
    if clf is None:
        emit(skipped("inference_litert", "ms", target, why))
        return
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image

    u8 = model_image(read_radiograph(FILM))
    tensor = clf.prepare(u8)[0][np.newaxis]
    bare = _bare(clf.card, tensor)
    seg = clf.segmenter if clf.crops else None
    seg_bare = _bare(seg.card, seg.inputs([u8])) if seg is not None else None
    seg_in = seg.inputs([u8]) if seg is not None else None

    def full() -> float:
        t0 = time.perf_counter()
        rad = read_radiograph(FILM)
        p = clf.predict(model_image(rad), gradcam=True, outline=False)
        elapsed = time.perf_counter() - t0
        assert p.heatmap is not None and p.heatmap.shape == rad.pixels.shape and p.runtime == "litert"
        return elapsed

    def forward() -> float:
        t0 = time.perf_counter()
        bare(tensor)
        return time.perf_counter() - t0

    def both() -> float:
        t0 = time.perf_counter()
        bare(tensor)
        if seg_bare is not None:
            seg_bare(seg_in)
        return time.perf_counter() - t0

    ours, floor, pair = interleaved_all((full, forward, both), repeats, warmup=2)
    emit(result("inference_litert", median(ours) * 1000, "ms", median(floor) * 1000, target, case="RG1_UNCR",
                model=clf.card.title, device=clf.device, lung_crop=bool(clf.crops),
                both_networks_bare_ms=median(pair) * 1000, ratio_vs_both_networks=median(ours) / median(pair),
                met_vs_both_networks=check_target(target, median(ours), median(ours) / median(pair)) if seg_bare is not None else None,
                baseline_is="bare LiteRT forward of the classifier's model.tflite on one prepared input"))


def scan_litert(repeats: int, model: str | None = None, **_) -> None:
    target = "ratio >= 0.9"
    clf, why = _litert_classifier(model)
    if clf is None:
        emit(skipped("scan_litert", "images/s", target, why))
        return
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image
    from cxviewer.scan import ScanOptions, run_scan

    with tempfile.TemporaryDirectory(prefix="cxbench-scan-") as tmp:
        folder = Path(tmp) / "images"
        scan_folder(folder)
        files = sorted(folder.iterdir())
        images = [model_image(read_radiograph(p)) for p in files]
        tensors = np.stack([clf.prepare(img)[0] for img in images])
        bare = _bare(clf.card, tensors[:SCAN_BATCH])
        seg = clf.segmenter if clf.crops else None
        seg_in = seg.inputs(images) if seg is not None else None
        seg_bare = _bare(seg.card, seg_in[:SCAN_BATCH]) if seg is not None else None
        options = ScanOptions(batch_size=SCAN_BATCH)

        def scan() -> float:
            rows = []
            t0 = time.perf_counter()
            summary = run_scan([folder], rows.append, classifier=clf, options=options)
            elapsed = time.perf_counter() - t0
            assert len(rows) == len(files) and all(r.runtime == "litert" for r in rows), summary.text()
            return len(files) / elapsed

        def batched(with_segmenter: bool) -> float:
            t0 = time.perf_counter()
            for i in range(0, len(tensors), SCAN_BATCH):
                if with_segmenter and seg_bare is not None:
                    seg_bare(seg_in[i:i + SCAN_BATCH])
                bare(tensors[i:i + SCAN_BATCH])
            return len(tensors) / (time.perf_counter() - t0)

        ours, floor, pair = interleaved_all((scan, lambda: batched(False), lambda: batched(True)), repeats)
        emit(result("scan_litert", median(ours), "images/s", median(floor), target, images=len(files),
                    batch_size=SCAN_BATCH, workers=options.workers, model=clf.card.title, device=clf.device,
                    both_networks_bare_images_per_s=median(pair), ratio_vs_both_networks=median(ours) / median(pair),
                    met_vs_both_networks=check_target(target, median(ours), median(ours) / median(pair)) if seg_bare is not None else None,
                    baseline_is=f"bare LiteRT forward of the classifier on ready tensors, batches of {SCAN_BATCH}"))


def first_ai_result_and_quit(repeats: int, model: str | None = None, **_) -> None:
    """Launch to the first AI result of ``cxviewer --smoke-test`` (sample opened at start-up), and the quit."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("CXVIEWER_RUNTIME", None)
    firsts, quits, runtimes = [], [], set()
    for i in range(repeats + 1):  # the first run warms the page cache
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "cxviewer", "--smoke-test"], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        first = done = None
        for line in proc.stdout:
            if not line.startswith("smoke-test "):
                continue
            event = json.loads(line[len("smoke-test "):])
            if event["event"] == "prediction" and first is None:
                first = time.perf_counter() - t0
                runtimes.add(f"{event.get('runtime')} on {event.get('device')}")
            elif event["event"] == "done":
                done = time.perf_counter()
                assert event["code"] == 0, event
        proc.wait(timeout=60)
        quit_s = time.perf_counter() - done if done is not None else None
        if i and first is not None and quit_s is not None:
            firsts.append(first)
            quits.append(quit_s)
    if not firsts:
        emit(skipped("first_ai_result", "ms", "value <= 1500", "the smoke test gave no AI result"))
        return
    emit(result("first_ai_result", median(firsts) * 1000, "ms", None, "value <= 1500",
                runtime=sorted(runtimes), runs=len(firsts),
                what="new `cxviewer --smoke-test` process (sample opened in the window) to its first AI result"))
    emit(result("quit", median(quits) * 1000, "ms", None, "value <= 500", runs=len(quits),
                what="from the smoke test's last line (it closes the window and quits) to the process's end"))
