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
        self._outcome_pending = False
        # connected before anyone else's slots, so it runs first for each emission: by the time a slot shows the outcome,
        # the task no longer counts as running (its thread may still be ending), and the next click is taken, not ignored
        self.succeeded.connect(self._outcome_delivered)
        self.failed.connect(self._outcome_delivered)

    @property
    def running(self) -> bool:
        """From ``start()`` until the outcome has been delivered to this object's thread (or the thread has ended)."""
        return self._outcome_pending and self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._outcome_pending = True
        self._thread = threading.Thread(target=self._run, name="pacs-task", daemon=True)
        self._thread.start()

    def _outcome_delivered(self, *_args: object) -> None:
        self._outcome_pending = False

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

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
