"""One piece of work off the GUI thread (a PACS operation, a report's PDF, a table's CSV): it runs on a Python
thread, and its progress and outcome come back as Qt signals, queued to the thread that made the task."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


def describe_error(exc: Exception) -> tuple[str, int]:
    """(message for the reader, exit code) of a failure: an OSError by its own words, anything else with its kind."""
    if isinstance(exc, OSError):
        return str(exc), 1
    return f"{type(exc).__name__}: {exc}", 1


class BackgroundTask(QObject):
    """``work(cancel_event, progress(done, total))`` runs on a Python thread; ``cancel()`` from any thread.
    ``describe``: how a failure becomes ``failed(message, code)``."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str, int)  # message, exit code
    finished = Signal()

    def __init__(self, work: Callable[[threading.Event, Callable[[int, int], None]], Any], parent: QObject | None = None,
                 name: str = "cxviewer-task",
                 describe: Callable[[Exception], tuple[str, int]] = describe_error):
        super().__init__(parent)
        self._work, self._name, self._describe = work, name, describe
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
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
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
        except Exception as exc:  # anything is reported, never raised into Qt
            self.failed.emit(*self._describe(exc))
        else:
            self.succeeded.emit(result)
        finally:
            self.finished.emit()
