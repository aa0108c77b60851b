"""On the LiteRT path the viewer, ``predict``, ``report`` and ``scan`` never import TensorFlow, and each says
which runtime and device answered; the scan runs the lung segmenter on whole batches.

Skips with the command that makes the converted models when ``model.tflite`` is missing.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cxviewer.model import available_models, default_model_dir, load_card

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
HEAVY = ("tensorflow", "keras", "tf_keras")


def _litert_ready():
    from cxviewer.model.litert_network import tflite_path

    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert has no wheel for this platform")
    if not available_models():
        pytest.skip("no classifier is installed")
    missing = [c for c in available_models() + available_models("segmentation") if tflite_path(c) is None]
    if missing:
        pytest.skip("no model.tflite yet for " + ", ".join(c.name for c in missing)
                    + ": run `cxviewer export-model models/NAME` for each")
    if not (SHARED / "dicom").is_dir():
        pytest.skip(f"shared test data not found under {SHARED}")


def _run(code: str, home: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "CXVIEWER_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("CXVIEWER_RUNTIME", None)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_predict_report_and_scan_run_without_tensorflow(tmp_path, cxviewer_home):
    _litert_ready()
    film = SHARED / "dicom" / "RG1_UNCR.dcm"
    folder = tmp_path / "films"
    folder.mkdir()
    for label in ("covid", "normal"):
        src = sorted((SHARED / "cxr" / "images" / label).glob("*.jpg"))[0]
        shutil.copy(src, folder / f"{label}.jpg")
    out = tmp_path / "out"
    out.mkdir()
    code = f"""
        import io, json, sys, contextlib
        from cxviewer.cli import main
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["predict", {str(film)!r}, "--json", "--gradcam"]) == 0
            assert main(["report", {str(film)!r}, "-o", {str(out / 'r.pdf')!r}, "--json", {str(out / 'r.json')!r}]) == 0
            assert main(["scan", {str(folder)!r}, "-o", {str(out / 'scan.csv')!r}]) == 0
        predict = json.loads(buf.getvalue().splitlines()[0])
        print(json.dumps({{"predict": predict, "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
    """
    done = _run(code, cxviewer_home)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    predict = result["predict"]
    assert predict["runtime"] == "litert" and predict["device"].startswith("CPU (XNNPACK")
    assert predict["status"] == "ok" and abs(sum(predict["probabilities"].values()) - 1) < 1e-4
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))["ai"]
    assert report["runtime"] == "litert" and report["device"] == predict["device"]
    from pdf_readback import read_text

    assert "runtime LiteRT" in read_text(out / "r.pdf")
    with open(out / "scan.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and list(rows[0])[-2:] == ["runtime", "device"]
    for row in rows:
        assert row["status"] == "ok" and row["runtime"] == "litert" and row["device"] == predict["device"]


def test_predict_on_the_tensorflow_runtime_says_so(cxviewer_home):
    _litert_ready()
    pytest.importorskip("tensorflow")
    film = SHARED / "dicom" / "RG1_UNCR.dcm"
    env = {**os.environ, "PYTHONPATH": str(REPO), "CXVIEWER_HOME": str(cxviewer_home)}
    done = subprocess.run([sys.executable, "-m", "cxviewer", "predict", str(film), "--json", "--runtime", "tensorflow"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["runtime"] == "tensorflow" and (result["device"] == "CPU" or result["device"].startswith("GPU"))


def test_viewer_shows_runtime_and_device_without_importing_tensorflow(cxviewer_home):
    _litert_ready()
    code = f"""
        import sys, json
        from PySide6.QtCore import QEventLoop, QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from cxviewer.ui.main_window import MainWindow
        from cxviewer.ui.ai.controller import install_ai_panel
        window = MainWindow()
        ai = install_ai_panel(window)
        window.show()
        loop = QEventLoop()
        got = {{}}
        ai.service.result.connect(lambda key, p: (got.update(p=p), loop.quit()))
        ai.service.failed.connect(lambda key, m: (got.update(error=m), loop.quit()))
        QTimer.singleShot(300000, loop.quit)
        window.open_sample()
        loop.exec()
        app.processEvents()
        p = got.get("p")
        print(json.dumps({{"error": got.get("error"), "runtime": p and p.runtime, "details": ai.panel.details.text(),
                           "status": window.status.device_label.text(),
                           "menu": [a.text() for a in ai.runtime_menu.actions() if a.isChecked()],
                           "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
        ai.service.shutdown()
    """
    done = _run(code, cxviewer_home)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["error"] is None and result["runtime"] == "litert"
    assert result["heavy"] == []
    assert "LiteRT" in result["details"] and "XNNPACK" in result["details"]
    assert "LiteRT" in result["status"]
    assert result["menu"] == ["Automatic (TensorFlow on a CUDA GPU, else LiteRT)"]


def test_scan_segments_whole_batches_and_matches_single_images(tmp_path):
    """A cropping model's scan runs the segmenter once per batch (not once per film in the decode
    workers), and the batched answers equal the viewer's one-image answers."""
    _litert_ready()
    import numpy as np

    from cxviewer.imaging import read_radiograph
    from cxviewer.model.classifier import Classifier
    from cxviewer.model.inputs import model_image
    from cxviewer.scan import ScanOptions, run_scan

    cards = [c for c in available_models() if c.data["input"].get("crop")]
    if not cards:
        pytest.skip("no bundled classifier crops to the lungs")
    clf = Classifier(cards[0], "litert")
    seg = clf.segmenter
    sizes = []
    forward = seg._forward
    seg._forward = lambda x: (sizes.append(len(x)), forward(x))[1]
    folder = tmp_path / "films"
    folder.mkdir()
    files = []
    for label in ("covid", "pneumonia", "normal"):
        for src in sorted((SHARED / "cxr" / "images" / label).glob("*.jpg"))[:2]:
            files.append(folder / f"{label}-{src.name}")
            shutil.copy(src, files[-1])
    rows = []
    run_scan([folder], rows.append, classifier=clf, options=ScanOptions(batch_size=3, workers=2))
    assert sorted(sizes) == [3, 3]  # 6 films, batches of 3: two runs of the segmenter, none of one film
    assert all(r.status == "ok" and r.runtime == "litert" for r in rows) and len(rows) == 6
    for r in rows:
        single = clf.predict(model_image(read_radiograph(r.path)), gradcam=False, outline=False)
        np.testing.assert_allclose((r.p_covid, r.p_pneumonia, r.p_normal), single.probabilities, atol=1e-5)


def test_a_damaged_litert_model_is_a_model_error_that_names_the_fix(tmp_path):
    """A model folder whose model.tflite is damaged (a copy cut short, a foreign file): the loader says which file
    and how to write it again, as a ModelCardError every command and the viewer report, never a traceback."""
    from cxviewer.model import ModelCardError, load_classifier
    from cxviewer.model.litert_network import tflite_path

    _litert_ready()
    card = load_card(default_model_dir())
    folder = tmp_path / card.name
    shutil.copytree(card.directory, folder)
    tflite_path(load_card(folder)).write_bytes(b"not a flatbuffer" * 64)
    with pytest.raises(ModelCardError, match=r"model\.tflite cannot be loaded.*cxviewer export-model"):
        load_classifier(folder, "litert")
