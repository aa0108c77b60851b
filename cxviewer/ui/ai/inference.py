"""Background inference: one QThread owns the classifier; results and errors come back as signals.

The GUI thread calls :meth:`InferenceService.submit`. The worker keeps a one-slot mailbox: a new
request replaces one that has not started yet, so when the reader moves on quickly only the
image on screen is analysed. The worker loads the model as soon as it starts (at the window's start-up,
not at the first request) and runs it once on a made-up film, so that the interpreters have allocated
and packed their weights, and every module the analysis needs is imported, before the reader opens
a film: the first film is then answered as fast as any other, and the GUI thread never waits on an
import that holds the interpreter lock. With LiteRT (the default on the CPU) TensorFlow is never
imported. Results are cached per image key.

Besides the image on screen, the worker analyses queued films in the background (the study browser's AI
column: every film of an opened folder), only while no on-screen request waits. A background answer has
no Grad-CAM map and no lung mask (nothing draws them), is not cached, and comes back on its own signals.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import threading
import traceback
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal

log = logging.getLogger(__name__)
CACHE_SIZE = 32
QUIT_WAIT_MS = 150  # at quit, the longest wait for a job in flight (the process then exits without it)
# After the service is made (in the window's construction), when its worker starts and preloads the model: after
# the window's first paint, and well before a film opened at launch has been decoded (about 1 s for the sample).
PRELOAD_DELAY_MS = 250
# What an analysis imports besides the model (each import holds the GIL, so not at the first film): the display
# pipeline (what the model is shown), the header/pixel scope check, the runtimes' names for the panel.
PRELOAD_MODULES = ("cxviewer.imaging.reader", "cxviewer.imaging.display_state", "cxviewer.model.inputs",
                   "cxviewer.model.scope", "cxviewer.report.ai_block")


class _Worker(QThread):
    started_job = Signal(str)
    finished_job = Signal(str, object)  # key, Prediction
    failed_job = Signal(str, str)  # key, message
    model_loaded = Signal(str, str)  # model title, where_it_runs(device, runtime)
    preloaded = Signal(bool)  # the start-up preload is over: True when the model is loaded and has run once
    background_done = Signal(str, object)  # key, Prediction without map or mask
    background_failed = Signal(str, str)  # key, message

    def __init__(self, model_dir: str | Path | None, runtime: str | None = None, preload: bool = True):
        super().__init__()
        self._preload_at_start = preload
        self.setObjectName("cxviewer-inference")
        self._model_dir = model_dir
        self._runtime = runtime
        self._classifier = None
        self._cond = threading.Condition()
        self._pending: tuple[str, object] | None = None
        self._background: OrderedDict[str, object] = OrderedDict()  # key -> source, oldest first
        self._foreground_key: str | None = None  # the on-screen film being analysed now
        self._stopping = False

    def put(self, key: str, source) -> None:
        with self._cond:
            self._pending = (key, source)  # replaces a stale request that has not started
            self._cond.notify()

    def put_background(self, key: str, source) -> None:
        with self._cond:
            if key == self._foreground_key or (self._pending is not None and self._pending[0] == key):
                return  # answered in full already, and cached
            self._background.setdefault(key, source)
            self._cond.notify()

    def background_queued(self) -> int:
        with self._cond:
            return len(self._background)

    def drop_background(self, keys=None) -> None:
        """Forget queued background films (``keys``; None: all)."""
        with self._cond:
            for key in list(self._background) if keys is None else keys:
                self._background.pop(key, None)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._pending = None
            self._background.clear()
            self._cond.notify()

    def _radiograph(self, source):
        """None for a display image given as is; a Radiograph, or one read from a path here, off the GUI thread."""
        if isinstance(source, np.ndarray):
            return None
        if hasattr(source, "pixels"):
            return source
        from cxviewer.imaging import read_radiograph

        return read_radiograph(source)

    def _load(self) -> None:
        if self._classifier is None:
            from cxviewer.model import load_classifier

            self._classifier = load_classifier(self._model_dir, self._runtime)
            loaded = self._classifier
            self.model_loaded.emit(loaded.card.title, where_it_runs(loaded.device, loaded.runtime))

    def _preload(self) -> None:
        """Import what an analysis needs, load the model and run it once on a made-up film (its answer is
        dropped). A failure here is only logged: the first request loads again and reports it."""
        try:
            for module in PRELOAD_MODULES:
                importlib.import_module(module)
            self._load()
            if not self._stopping:
                self._classifier.predict(warm_up_film(), gradcam=True, outline=True)
        except Exception:  # noqa: BLE001 - reported, with its message, at the first request
            log.info("model preload failed (the first request will say why): %s", traceback.format_exc())
            self.preloaded.emit(False)
            return
        self.preloaded.emit(True)

    def run(self) -> None:  # noqa: D401 - QThread entry point
        if self._preload_at_start and not self._stopping:
            self._preload()
        while True:
            with self._cond:
                while self._pending is None and not self._background and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                background = self._pending is None  # nothing on screen waits: one background film
                if background:
                    key, source = self._background.popitem(last=False)
                else:
                    key, source = self._pending
                    self._pending = None
                    self._background.pop(key, None)  # answered in full now
                self._foreground_key = None if background else key
            if background:
                self._run_background(key, source)
                continue
            self.started_job.emit(key)
            try:
                rad = self._radiograph(source)
                self._load()
                if rad is None:
                    prediction = self._classifier.predict(source, gradcam=True)
                else:  # the header and pixel scope checks first (a CT slice gets no opinion), then the model
                    prediction = self._classifier.predict_radiograph(rad, gradcam=True)
                prediction.attention_in_lungs  # noqa: B018 - computed here (full-size sums), not on the GUI thread
            except Exception as exc:  # any failure is a message for the panel, never a crash
                log.warning("inference failed for %s: %s", key, traceback.format_exc())
                self.failed_job.emit(key, _message(exc))
                continue
            self.finished_job.emit(key, prediction)

    def _run_background(self, key: str, source) -> None:
        try:
            rad = self._radiograph(source)
            self._load()
            if rad is None:
                prediction = self._classifier.predict(source, gradcam=False, outline=False)
            else:
                prediction = self._classifier.predict_radiograph(rad, gradcam=False, outline=False)
            prediction = dataclasses.replace(prediction, lung_mask=None)  # a cropping model's: nobody draws it
        except Exception as exc:  # noqa: BLE001 - a message for the browser, never a crash
            log.info("background analysis failed for %s: %s", key, exc)
            self.background_failed.emit(key, _message(exc))
            return
        self.background_done.emit(key, prediction)


def warm_up_film(size: int = 512) -> np.ndarray:
    """A made-up 8-bit film (a smooth ramp with two darker ovals) to run the networks once before a real one."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    film = 60.0 + 140.0 * yy
    for cx in (0.3, 0.7):
        film[((xx - cx) / 0.15) ** 2 + ((yy - 0.5) / 0.3) ** 2 < 1.0] -= 40.0
    return np.clip(film, 0, 255).astype(np.uint8)


def where_it_runs(device: str, runtime: str) -> str:
    """Device and runtime as the panel and the status bar show them, e.g. "CPU (XNNPACK, 2 threads) · LiteRT"."""
    from cxviewer.report.ai_block import RUNTIME_NAMES

    name = RUNTIME_NAMES.get(runtime, runtime)
    return f"{device} · {name}" if name else device


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
    ready = Signal(bool)  # the start-up preload is over (True: loaded and run once; False: the first request says why)
    backgroundResult = Signal(str, object)  # key, Prediction without map or mask (see queue_background)
    backgroundFailed = Signal(str, str)  # key, message
    reset = Signal()  # the model or runtime changed: earlier answers are void

    def __init__(self, model_dir: str | Path | None = None, parent: QObject | None = None, runtime: str | None = None,
                 preload: bool = True, preload_delay_ms: int = PRELOAD_DELAY_MS):
        """``preload``: load and warm the model as soon as the worker starts (the viewer); False: at the first request.
        ``preload_delay_ms``: when the worker starts, after the event loop has begun (0: at once, from here: a film
        named at launch is on its way, so the model loads while the window is still being built)."""
        super().__init__(parent)
        self.preload = preload
        self.preload_delay_ms = preload_delay_ms
        self._cache: OrderedDict[str, object] = OrderedDict()
        self._retired: set[_Worker] = set()  # workers of an earlier model, still ending (kept alive until they have)
        self.model_dir = model_dir
        self.runtime = runtime
        self.device: str | None = None
        self.model_title: str | None = None
        self.preloaded: bool | None = None  # None until the start-up preload is over (see ``ready``)
        self._worker = self._start(model_dir)

    def _start(self, model_dir) -> _Worker:
        worker = _Worker(model_dir, self.runtime, self.preload)
        # every slot first checks that the worker is still this service's: after a switch of model or runtime, what
        # the old worker had sent already (queued for this thread) still arrives, and is dropped
        worker.started_job.connect(self._on_started)
        worker.finished_job.connect(self._on_result)
        worker.failed_job.connect(self._on_failed)
        worker.model_loaded.connect(self._on_loaded)
        worker.preloaded.connect(self._on_preloaded)
        worker.background_done.connect(self._on_background_result)
        worker.background_failed.connect(self._on_background_failed)
        if self.preload and self.preload_delay_ms > 0:  # once the window has painted: its first paint does not share
            # the CPU with the preload
            QTimer.singleShot(self.preload_delay_ms, self,
                              lambda: worker.stopping or worker.start(QThread.Priority.LowPriority))
        else:
            worker.start(QThread.Priority.LowPriority)
        return worker

    def _let_go_of_retired(self) -> None:
        worker = self.sender()
        if worker in self._retired:
            self._retired.discard(worker)
            worker.deleteLater()

    def _from_current_worker(self) -> bool:
        return self.sender() is self._worker

    def _on_started(self, key: str) -> None:
        if self._from_current_worker():
            self.busy.emit(key)

    def _on_failed(self, key: str, message: str) -> None:
        if self._from_current_worker():
            self.failed.emit(key, message)

    def _on_background_result(self, key: str, prediction) -> None:
        if self._from_current_worker():
            self.backgroundResult.emit(key, prediction)

    def _on_background_failed(self, key: str, message: str) -> None:
        if self._from_current_worker():
            self.backgroundFailed.emit(key, message)

    def _on_preloaded(self, ok: bool) -> None:
        if not self._from_current_worker():
            return
        self.preloaded = ok
        self.ready.emit(ok)

    def _on_loaded(self, title: str, device: str) -> None:
        if not self._from_current_worker():
            return
        self.model_title, self.device = title, device
        self.modelLoaded.emit(title, device)

    def _on_result(self, key: str, prediction) -> None:
        if not self._from_current_worker():  # the model it came from has been switched away from
            return
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

    def queue_background(self, key: str, source) -> bool:
        """Analyse ``key`` (a Radiograph or a file path) when nothing on screen waits; the answer comes on
        ``backgroundResult``/``backgroundFailed`` (a cached full answer comes on ``backgroundResult`` at once).
        False when it was answered from the cache."""
        hit = self._cache.get(key)
        if hit is not None:
            self.backgroundResult.emit(key, hit)
            return False
        self._worker.put_background(key, source)
        return True

    def background_queued(self) -> int:
        """Films waiting in the background queue."""
        return self._worker.background_queued()

    def drop_background(self, keys=None) -> None:
        """Forget background films not yet analysed (``keys``; None: all), e.g. when the browser is cleared."""
        self._worker.drop_background(keys)

    def set_model(self, model_dir: str | Path | None, runtime: str | None = None) -> None:
        """Switch models (or runtimes): a fresh worker loads the new one (at once, with ``preload``); cached results
        are dropped and ``reset`` tells whoever showed them."""
        runtime = self.runtime if runtime is None else runtime
        if model_dir == self.model_dir and runtime == self.runtime:
            return
        # the old worker finishes the film in flight (or its preload) on its own, unwaited for: its answers are
        # dropped on arrival (``_from_current_worker``) and it is let go once its thread has ended
        old = self._worker
        old.stop()
        self._retired.add(old)
        old.finished.connect(self._let_go_of_retired)
        self._cache.clear()
        self.model_dir, self.runtime, self.device, self.model_title = model_dir, runtime, None, None
        self.preloaded = None
        self._worker = self._start(model_dir)
        self.reset.emit()

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
