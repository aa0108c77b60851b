"""Run one PACS operation off the GUI thread (:class:`~cxviewer.ui.background_task.BackgroundTask`); a PacsError
fails with its own exit code (1 refused/failed, 2 bad input, 3 unreachable)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from cxviewer.pacs.errors import PacsError
from cxviewer.ui.background_task import BackgroundTask


def _describe(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, PacsError):
        return str(exc), exc.exit_code
    return f"{type(exc).__name__}: {exc}", 1


class PacsTask(BackgroundTask):
    def __init__(self, work: Callable[[threading.Event, Callable[[int, int], None]], Any], parent: QObject | None = None):
        super().__init__(work, parent, name="pacs-task", describe=_describe)
