"""Cold start: a new ``python -m cxviewer`` process to the main window's first paint, vs the same for
a bare QMainWindow. Both report through the same first-paint event filter (``CXVIEWER_STARTUP_PROBE``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from common import REPO, emit, median, result

PREFIX = "cxviewer-startup-probe shown="
BARE = f"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    done = False
    def eventFilter(self, obj, event):
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            print("{PREFIX}%.6f" % time.time(), file=sys.stderr, flush=True)
            QTimer.singleShot(0, app.quit)
        return False

app = QApplication(sys.argv[:1])
w = QMainWindow()
probe = FirstPaint(w)
w.installEventFilter(probe)
w.show()
app.exec()
"""


def _shown_after(cmd: list[str], env: dict) -> float:
    """Seconds from just before the process starts to its first paint."""
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    for line in proc.stderr.splitlines():
        if line.startswith(PREFIX):
            return float(line[len(PREFIX):]) - t0
    raise RuntimeError(f"no start-up line from {cmd[:3]} (exit {proc.returncode}): {proc.stderr[-2000:]}")


def imported_at_show(env: dict) -> list[str]:
    """Heavy modules already imported when the window shows (they should load later, if at all)."""
    code = ("import sys, runpy; sys.argv=['cxviewer'];\n"
            "from PySide6.QtWidgets import QMainWindow\n"
            "orig = QMainWindow.show\n"
            "def show(self):\n"
            "    orig(self)\n"
            "    heavy = ('tensorflow', 'keras', 'pydicom', 'cv2', 'scipy', 'pypdf', 'PIL', 'matplotlib')\n"
            "    print('IMPORTED', [m for m in heavy if m in sys.modules], file=sys.stderr, flush=True)\n"
            "    raise SystemExit(0)\n"
            "QMainWindow.show = show\n"
            "runpy.run_module('cxviewer', run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    for line in proc.stderr.splitlines():
        if line.startswith("IMPORTED "):
            return eval(line[len("IMPORTED "):])  # noqa: S307 - our own repr of a list of names
    return ["?"]


def startup_to_window(repeats: int, **_) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CXVIEWER_STARTUP_PROBE="1")
    app_cmd = [sys.executable, "-m", "cxviewer"]
    bare_cmd = [sys.executable, "-c", BARE]
    # The same bare window after importing pyqtgraph (and numpy with it): what any pyqtgraph-based
    # viewer pays before its own code runs (pyqtgraph.Qt touches every Qt class at import).
    pg_cmd = [sys.executable, "-c", "import pyqtgraph\n" + BARE]
    _shown_after(app_cmd, env), _shown_after(bare_cmd, env), _shown_after(pg_cmd, env)  # warm-up: file cache
    ours, floor, with_pg = [], [], []
    for _ in range(repeats):
        ours.append(_shown_after(app_cmd, env))
        floor.append(_shown_after(bare_cmd, env))
        with_pg.append(_shown_after(pg_cmd, env))
    emit(result("startup_to_window", median(ours) * 1000, "ms", median(floor) * 1000, "ratio <= 2",
                baseline_is="bare QMainWindow in a fresh process", heavy_imports_at_show=imported_at_show(env),
                bare_window_after_import_pyqtgraph_ms=median(with_pg) * 1000,
                spread_ms=[round(min(ours) * 1000), round(max(ours) * 1000)]))
