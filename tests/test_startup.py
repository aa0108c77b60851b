"""Start-up path: the window's modules load no heavy library it does not need to show the window
(OpenCV, pydicom, TensorFlow come later, when an image is opened or analysed), and the start-up
probe used by the benchmarks reports the first paint and quits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("cv2", "pydicom", "tensorflow", "keras", "scipy", "pypdf")


def test_window_modules_import_no_heavy_library(tmp_path):
    code = (
        "import sys\n"
        "import cxviewer.ui.app, cxviewer.ui.main_window, cxviewer.ui.scan.dialog, cxviewer.ui.report.dock\n"
        "import cxviewer.ui.ai.controller\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CXVIEWER_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_building_the_whole_window_imports_no_heavy_library(tmp_path):
    """Every part ``build_main_window`` installs (AI, report, PACS, annotations with GSPS, layouts) leaves pydicom
    to the readers: a film named at launch is read on another thread meanwhile, and the window waits for no
    import of it."""
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from cxviewer.ui.app import build_main_window\n"
        "window, service = build_main_window()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CXVIEWER_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_startup_probe_reports_the_first_paint_and_quits(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CXVIEWER_HOME": str(tmp_path),
           "QT_QPA_PLATFORM": "offscreen", "CXVIEWER_STARTUP_PROBE": "1"}
    done = subprocess.run([sys.executable, "-m", "cxviewer"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("cxviewer-startup-probe shown=")]
    assert len(lines) == 1
    assert float(lines[0].split("=", 1)[1]) > 1.6e9  # epoch seconds
    assert "Traceback" not in done.stderr


def test_readers_are_loaded_in_the_background_once_the_window_is_up(tmp_path):
    code = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from cxviewer.ui.main_window import MainWindow\n"
        "app = QApplication([])\n"
        "w = MainWindow()\n"
        "w.show()\n"
        "print('at show', 'pydicom' in sys.modules)\n"
        "QTimer.singleShot(3000, app.quit)\n"
        "app.exec()\n"
        "w.loader.shutdown()\n"
        "print('later', 'pydicom' in sys.modules and 'cv2' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CXVIEWER_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["at show False", "later True"]
