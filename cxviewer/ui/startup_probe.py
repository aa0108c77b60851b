"""Start-up timing hook: with ``CXVIEWER_STARTUP_PROBE=1`` the GUI prints when the main window first
paints and quits at once (the start-up benchmark, ``tests/benchmarks``, reads that line).

The line is ``cxviewer-startup-probe shown=<epoch seconds>`` on stderr; epoch time so a parent
process can subtract its own clock reading taken before it started this one.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer

ENV = "CXVIEWER_STARTUP_PROBE"
PREFIX = "cxviewer-startup-probe shown="


def requested() -> bool:
    return os.environ.get(ENV, "") not in ("", "0")


class _FirstPaint(QObject):
    def __init__(self, app, window):
        super().__init__(window)
        self.app, self.done = app, False

    def eventFilter(self, obj, event) -> bool:
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            print(f"{PREFIX}{time.time():.6f}", file=sys.stderr, flush=True)
            QTimer.singleShot(0, self.app.quit)
        return False


def install(app, window) -> None:
    """Report the first paint of ``window`` and quit."""
    probe = _FirstPaint(app, window)
    window.installEventFilter(probe)
    window._startup_probe = probe
