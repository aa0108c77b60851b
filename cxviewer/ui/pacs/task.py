"""Run one PACS operation off the GUI thread; progress and the outcome come back as Qt signals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from cxviewer.pacs.errors import PacsError


class PacsTask(QObject):
    """``work(cancel_event, progress(done, total))`` runs on a Python thread; ``cancel()`` from any thread."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str, int)  # message, exit code (1 refused/failed, 2 bad input, 3 unreachable)
    finished = Signal()

    def __init__(self, work: Callable[[threading.Event, Callable[[int, int], None]], Any], parent: QObject | None = None):
        super().__init__(parent)
        self._work = work
        self.cancel_event = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pacs-task", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _run(self) -> None:
        try:
            result = self._work(self.cancel_event, lambda done, total: self.progressed.emit(int(done), int(total)))
        except PacsError as exc:
            self.failed.emit(str(exc), exc.exit_code)
        except Exception as exc:  # anything else is reported, never raised into Qt
            self.failed.emit(f"{type(exc).__name__}: {exc}", 1)
        else:
            self.succeeded.emit(result)
        finally:
            self.finished.emit()
