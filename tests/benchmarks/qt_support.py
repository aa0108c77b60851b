"""Qt plumbing for the viewer benchmarks: one application, waiting on signals with a deadline."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def application() -> QApplication:
    return QApplication.instance() or QApplication(["cxviewer-bench"])


def wait_for(signal, accept=lambda *args: True, timeout_s: float = 120.0, trigger=None) -> tuple:
    """Run the event loop until ``signal`` fires with arguments ``accept`` likes; returns them.

    ``trigger`` (called once connected) starts the work: a signal emitted from another thread
    reaches only the slots connected when it is emitted, so connect first, then start.
    """
    loop = QEventLoop()
    got: list[tuple] = []

    def on(*args):
        if not got and accept(*args):
            got.append(args)
            loop.quit()

    signal.connect(on)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(timeout_s * 1000))
    try:
        if trigger is not None:
            trigger()
        if not got:
            loop.exec()
    finally:
        timer.stop()
        signal.disconnect(on)
    if not got:
        raise TimeoutError(f"no accepted signal within {timeout_s:.0f} s")
    return got[0]


def settle(ms: int = 50) -> None:
    """Let posted events (layout, deferred deletes, repaints) run for ``ms`` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main_window(size=(1800, 1000)):
    """A MainWindow as the user gets it (fresh settings under CXVIEWER_HOME), shown and exposed."""
    from cxviewer.ui.main_window import MainWindow

    application()
    window = MainWindow()
    window.resize(*size)
    window.show()
    settle(100)
    return window
