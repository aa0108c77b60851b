"""Background inference: one QThread owns the classifier; results and errors come back as signals.

The GUI thread calls :meth:`InferenceService.submit`. The worker keeps a one-slot mailbox: a new
request replaces one that has not started yet, so when the reader moves on quickly only the
image on screen is analysed. The model loads lazily on the worker thread at the first request, so
the window never waits for it; with LiteRT (the default on the CPU) that takes a few tens of ms and
TensorFlow is never imported. Results are cached per image key.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

log = logging.getLogger(__name__)
CACHE_SIZE = 32
QUIT_WAIT_MS = 150  # at quit, the longest wait for a job in flight (the process then exits without it)


class _Worker(QThread):
    started_job = Signal(str)
    finished_job = Signal(str, object)  # key, Prediction
    failed_job = Signal(str, str)  # key, message
    model_loaded = Signal(str, str)  # model title, "device (runtime)"

    def __init__(self, model_dir: str | Path | None, runtime: str | None = None):
        super().__init__()
        self.setObjectName("cxviewer-inference")
        self._model_dir = model_dir
        self._runtime = runtime
        self._classifier = None
        self._cond = threading.Condition()
        self._pending: tuple[str, object] | None = None
        self._stopping = False

    def put(self, key: str, source) -> None:
        with self._cond:
            self._pending = (key, source)  # replaces a stale request that has not started
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._pending = None
            self._cond.notify()

    def _radiograph(self, source):
        """None for a display image given as is; a Radiograph, or one read from a path here, off the GUI thread."""
        if isinstance(source, np.ndarray):
            return None
        if hasattr(source, "pixels"):
            return source
        from cxviewer.imaging import read_radiograph

        return read_radiograph(source)

    def run(self) -> None:  # noqa: D401 - QThread entry point
        while True:
            with self._cond:
                while self._pending is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                key, source = self._pending
                self._pending = None
            self.started_job.emit(key)
            try:
                rad = self._radiograph(source)
                if self._classifier is None:
                    from cxviewer.model import load_classifier

                    self._classifier = load_classifier(self._model_dir, self._runtime)
                    self.model_loaded.emit(self._classifier.card.title, _where(self._classifier))
                if rad is None:
                    prediction = self._classifier.predict(source, gradcam=True)
                else:  # the header and pixel scope checks first (a CT slice gets no opinion), then the model
                    prediction = self._classifier.predict_radiograph(rad, gradcam=True)
            except Exception as exc:  # any failure is a message for the panel, never a crash
                log.warning("inference failed for %s: %s", key, traceback.format_exc())
                self.failed_job.emit(key, _message(exc))
                continue
            self.finished_job.emit(key, prediction)


def _where(classifier) -> str:
    from cxviewer.report.content import RUNTIME_NAMES

    return f"{classifier.device}, {RUNTIME_NAMES.get(classifier.runtime, classifier.runtime)}"


def _message(exc: Exception) -> str:
    from cxviewer.imaging import UnreadableImageError
    from cxviewer.model import ModelCardError

    if isinstance(exc, (UnreadableImageError, ModelCardError)):
        return str(exc)
    return f"The model could not analyse this image ({type(exc).__name__}: {exc})."


class InferenceService(QObject):
    """GUI-side handle: submit images, receive ``result``/``failed`` for the keys you asked about."""

    busy = Signal(str)  # key now being analysed
    result = Signal(str, object)  # key, Prediction (with heatmap on the image's pixel grid)
    failed = Signal(str, str)  # key, message
    modelLoaded = Signal(str, str)  # model title, device

    def __init__(self, model_dir: str | Path | None = None, parent: QObject | None = None, runtime: str | None = None):
        super().__init__(parent)
        self._cache: OrderedDict[str, object] = OrderedDict()
        self.model_dir = model_dir
        self.runtime = runtime
        self.device: str | None = None
        self.model_title: str | None = None
        self._worker = self._start(model_dir)

    def _start(self, model_dir) -> _Worker:
        worker = _Worker(model_dir, self.runtime)
        worker.started_job.connect(self.busy)
        worker.finished_job.connect(self._on_result)
        worker.failed_job.connect(self.failed)
        worker.model_loaded.connect(self._on_loaded)
        worker.start(QThread.Priority.LowPriority)
        return worker

    def _on_loaded(self, title: str, device: str) -> None:
        self.model_title, self.device = title, device
        self.modelLoaded.emit(title, device)

    def _on_result(self, key: str, prediction) -> None:
        self._cache[key] = prediction
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self.result.emit(key, prediction)

    def cached(self, key: str):
        return self._cache.get(key)

    def submit(self, key: str, source) -> bool:
        """Ask for ``key`` (a display uint8 image, a Radiograph or a file path). True when served from cache."""
        hit = self._cache.get(key)
        if hit is not None:
            self.result.emit(key, hit)
            return True
        self._worker.put(key, source)
        return False

    def set_model(self, model_dir: str | Path | None, runtime: str | None = None) -> None:
        """Switch models (or runtimes): a fresh worker loads the new one lazily; cached results are dropped."""
        runtime = self.runtime if runtime is None else runtime
        if model_dir == self.model_dir and runtime == self.runtime:
            return
        self.shutdown()
        self._cache.clear()
        self.model_dir, self.runtime, self.device, self.model_title = model_dir, runtime, None, None
        self._worker = self._start(model_dir)

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop after the job in flight (if any): a network cannot be interrupted mid-call. With
        ``timeout_ms`` (quitting) wait at most that long; True when the worker has stopped."""
        self._worker.stop()
        if timeout_ms is None:
            return self._worker.wait()
        return self._worker.wait(timeout_ms)

    def quit(self) -> None:
        """At quit: ask the worker to stop; nobody waits for its answer, so neither does the quit."""
        self.shutdown(QUIT_WAIT_MS)
