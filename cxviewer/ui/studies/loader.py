"""Opening files off the GUI thread: folder discovery, decoding and thumbnails in a QThreadPool.

A *batch* is one user action (a drop, File > Open, command-line paths). Its runnable walks the
paths, decodes files one by one and reports each as soon as it is done, so the window can show the
first image while the rest of the folder is still loading. Re-reading one image whose pixels were
dropped from the cache is a separate, small task so it does not wait behind a long batch.
Results arrive as Qt signals, delivered on the GUI thread.
Header look-ups that may open many files (a folder's earlier studies, its presentation states) run
in a pool of their own (``Loader.look_up``), so they never hold up reading the film on screen.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from cxviewer.scan.discovery import Discovery, count_files, normalise_roots
from cxviewer.ui.studies.image_entry import ImageEntry, thumbnail_display

log = logging.getLogger(__name__)

def read_entry(path: Path, read: Callable[[Path], Any] | None = None):
    """Decode one file (with ``read``, default ``read_radiograph``): (Radiograph, ImageEntry) or (None, ImageEntry
    with the error message)."""
    from cxviewer.imaging import NonImageObjectError, UnreadableImageError, read_radiograph

    try:
        rad = (read or read_radiograph)(path)
        display = thumbnail_display(rad)
    except NonImageObjectError as exc:  # a presentation state, report, PDF...: not a broken film
        return None, ImageEntry.from_non_image(path, exc.kind, exc.sop_class_name)
    except UnreadableImageError as exc:
        return None, ImageEntry.from_error(path, str(exc))
    except Exception as exc:  # a reader bug must not take the viewer down
        log.exception("unexpected error reading %s", path)
        return None, ImageEntry.from_error(path, f"Unexpected error: {exc}")
    return rad, ImageEntry.from_radiograph(rad, display)


class LoaderSignals(QObject):
    batchStarted = Signal(int, int)  # batch, number of files under the paths (an upper bound)
    loaded = Signal(int, object, object)  # batch, ImageEntry, Radiograph
    failed = Signal(int, object)  # batch, ImageEntry with .error
    nonImage = Signal(int, object)  # batch, ImageEntry with .non_image (a report, presentation state...)
    progress = Signal(int, int, int)  # batch, done, total
    batchFinished = Signal(int, bool)  # batch, cancelled
    reread = Signal(object, object, object)  # path, Radiograph or None, error message or None
    lookedUp = Signal(object, object)  # the caller's token, the look-up's result (or the exception it raised)


class _BatchTask(QRunnable):
    def __init__(self, batch: int, paths: list[str], signals: LoaderSignals, cancel: threading.Event,
                 read: Callable[[Path], Any] | None = None):
        super().__init__()
        self.batch, self.paths, self.signals, self.cancel, self.read = batch, paths, signals, cancel, read
        self.setAutoDelete(True)

    def run(self) -> None:
        s, b = self.signals, self.batch
        try:
            roots = normalise_roots(self.paths)
            total = count_files(roots, should_stop=self.cancel.is_set)
            s.batchStarted.emit(b, total)
            for root in roots:
                if not root.exists():
                    s.failed.emit(b, ImageEntry.from_error(root, "No such file or folder."))
            # Discovery sniffs content, so a broken file named .dcm is still tried (and reported)
            # while READMEs and other non-images in a folder are skipped silently.
            discovery = Discovery(roots)
            for i, path in enumerate(discovery, 1):
                if self.cancel.is_set():
                    break
                rad, entry = read_entry(path, self.read)
                if self.cancel.is_set():  # closed while this film was being read: nobody shows it
                    break
                if rad is None and entry.non_image:
                    s.nonImage.emit(b, entry)
                elif rad is None:
                    s.failed.emit(b, entry)
                else:
                    s.loaded.emit(b, entry, rad)
                s.progress.emit(b, min(i + discovery.ignored, total), total)
        finally:
            s.batchFinished.emit(b, self.cancel.is_set())


class _ReadTask(QRunnable):
    def __init__(self, path: Path, signals: LoaderSignals):
        super().__init__()
        self.path, self.signals = path, signals
        self.setAutoDelete(True)

    def run(self) -> None:
        rad, entry = read_entry(self.path)
        self.signals.reread.emit(self.path, rad, entry.error)


class _LookupTask(QRunnable):
    def __init__(self, token: object, look: Callable[[], Any], signals: LoaderSignals):
        super().__init__()
        self.token, self.look, self.signals = token, look, signals
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.look()
        except Exception as exc:  # the caller says so; the viewer stays up
            log.exception("look-up failed")
            result = exc
        self.signals.lookedUp.emit(self.token, result)


class _PrewarmTask(QRunnable):
    """Import the readers (pydicom, OpenCV) and start a decoder process in the background, so that
    the first image a reader opens after start-up does not wait for them; the window itself never
    loads them."""

    def run(self) -> None:
        try:
            from cxviewer.imaging.decode_pool import pool

            pool().warm_up()  # one decoder process ready before the first compressed file
            import cxviewer.imaging.dicom_reader  # noqa: F401 - pydicom and its pixel handlers
            import cxviewer.imaging.image_reader  # noqa: F401 - OpenCV
        except Exception:  # the real read reports any problem with a message
            log.debug("reader prewarm failed", exc_info=True)


PREWARM_DELAY_MS = 300  # after the window's first paint, before a reader can pick a file


class Loader(QObject):
    """Starts batches and re-reads; connect to ``signals`` for the results. ``read``: how a batch reads a file
    (default ``read_radiograph``; the viewer passes ``ReadAhead.read`` for a film named at launch)."""

    def __init__(self, parent: QObject | None = None, read: Callable[[Path], Any] | None = None):
        super().__init__(parent)
        self.read = read
        self.signals = LoaderSignals(self)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)  # one long batch + quick re-reads of single images
        self.lookups = QThreadPool(self)  # folder look-ups: never in the way of reading a film
        self.lookups.setMaxThreadCount(1)
        self._ids = itertools.count(1)
        self._cancel: dict[int, threading.Event] = {}
        self.signals.batchFinished.connect(lambda b, _c: self._cancel.pop(b, None))
        QTimer.singleShot(PREWARM_DELAY_MS, self, lambda: self.pool.start(_PrewarmTask(), priority=-1))

    def load(self, paths: Iterable[str | os.PathLike]) -> int:
        batch = next(self._ids)
        cancel = threading.Event()
        self._cancel[batch] = cancel
        self.pool.start(_BatchTask(batch, [str(p) for p in paths], self.signals, cancel, self.read))
        return batch

    def reread(self, path: Path) -> None:
        self.pool.start(_ReadTask(Path(path), self.signals), priority=1)

    def look_up(self, token: object, look: Callable[[], Any]) -> None:
        """Run ``look()`` off the GUI thread; ``signals.lookedUp`` brings back ``token`` and its result
        (connect it queued: the caller compares the token with its latest request and drops stale ones)."""
        self.lookups.start(_LookupTask(token, look, self.signals))

    def busy(self) -> bool:
        return bool(self._cancel)

    def cancel_all(self) -> None:
        for event in self._cancel.values():
            event.set()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        self.cancel_all()
        self.pool.waitForDone(timeout_ms)
        self.lookups.waitForDone(timeout_ms)
