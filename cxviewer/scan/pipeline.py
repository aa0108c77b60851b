"""The scan pipeline: discover -> decode + scope + prepare (thread pool) -> batched inference -> rows.

Files stream through a bounded window of decode jobs, so memory stays flat however large the
folder. Worker threads read, check scope and prepare the model tensor (the codecs, OpenCV and
numpy release the GIL), while the calling thread runs the model on full batches; the window is
refilled before each batch so decoding overlaps inference. Results leave in a deterministic
order: files that need no inference (errors, out of scope) as soon as they are reached in
discovery order, classified files when their batch is done.

Qt-free: the CLI calls :func:`run_scan` directly, the GUI from a QThread worker.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from cxviewer.scan.discovery import Discovery, count_files, normalise_roots
from cxviewer.scan.results import PROBABILITY_COLUMNS, ScanResult
from cxviewer.scan.scope import scope_problem

DEFAULT_BATCH_SIZE = 16
SCAN_EXCLUSIVE = os.environ.get("CXVIEWER_SCAN_OVERLAP") != "1"  # benchmarks compare both ways


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class ScanOptions:
    recursive: bool = True
    workers: int = field(default_factory=default_workers)
    batch_size: int = DEFAULT_BATCH_SIZE
    max_files: int | None = None  # stop after this many new files (a trial run; simulated interruptions)
    skip: Collection[str] = ()  # paths already in the results (``--resume``)


@dataclass
class ScanProgress:
    """Where a running scan stands; ``total`` (all files under the roots) is ``None`` until counted."""

    started: float = field(default_factory=time.monotonic)
    ok: int = 0
    errors: int = 0
    out_of_scope: int = 0
    ignored: int = 0  # files that are not images
    already_done: int = 0  # skipped because a previous run has them (``--resume``)
    total: int | None = None

    @property
    def scanned(self) -> int:
        return self.ok + self.errors + self.out_of_scope

    @property
    def examined(self) -> int:
        return self.scanned + self.ignored + self.already_done

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Files scanned per second."""
        t = self.elapsed_s
        return self.scanned / t if t > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.total is None or self.rate <= 0:
            return None
        return max(0, self.total - self.examined) / self.rate


@dataclass
class ScanSummary:
    ok: int
    errors: int
    out_of_scope: int
    ignored: int
    already_done: int
    elapsed_s: float
    cancelled: bool
    skipped_dirs: list[str]
    model: str

    @property
    def scanned(self) -> int:
        return self.ok + self.errors + self.out_of_scope

    def text(self) -> str:
        parts = [
            f"{self.scanned} file(s) scanned in {self.elapsed_s:.1f} s: {self.ok} ok, {self.errors} error(s), "
            f"{self.out_of_scope} out of scope"
        ]
        if self.already_done:
            parts.append(f"{self.already_done} already in the results (resumed)")
        if self.ignored:
            parts.append(f"{self.ignored} other file(s) ignored (not images)")
        if self.skipped_dirs:
            parts.append(f"{len(self.skipped_dirs)} folder(s) not entered")
        if not self.model:
            parts.append("no model: images were checked, not classified")
        if self.cancelled:
            parts.append("CANCELLED before the end")
        return "; ".join(parts)


@dataclass
class _Examined:
    """A worker's answer for one file: a final result, or a tensor waiting for the model."""

    result: ScanResult
    model_input: object | None = None  # prepared tensor (or display image) for the classifier


class _ModelRunner:
    """Adapts the classifier: inputs are prepared in the decode workers, the batch runs in one call.

    A model that crops to the lungs cannot be prepared before its segmenter has run: its workers make
    the display image and the segmenter's input, the batch is segmented in one run of the segmenter,
    then each film is cut and prepared on a small pool of threads (OpenCV releases the GIL), then classified.
    """

    def __init__(self, classifier, workers: int = 1):
        self.clf = classifier
        card = classifier.card
        self.tag = f"{card.name}@{card.version}"
        self.labels = tuple(card.labels)
        self.crops = bool(getattr(classifier, "crops", False))
        # LiteRT keeps every core busy during a forward pass: decoding at the same time only makes both wait
        # for the CPU (XNNPACK's threads wait for each other), so the workers pause while the network runs.
        self.exclusive = getattr(classifier, "runtime", "") == "litert" and SCAN_EXCLUSIVE
        self._workers = max(1, workers)
        self._prep_pool: ThreadPoolExecutor | None = None

    def model_input(self, rad):
        from cxviewer.model.inputs import model_image

        image = model_image(rad)
        if self.crops:
            return image, self.clf.segmenter.inputs([image])[0]
        return self.clf.prepare(image)[0]

    def _prepare_cropped(self, inputs: list):
        import numpy as np

        images = [image for image, _ in inputs]
        lungs = self.clf.segmenter.segment_many(images, inputs=np.stack([s for _, s in inputs]))
        if self._prep_pool is None:
            self._prep_pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="scan-prepare")
        prepared = list(self._prep_pool.map(self.clf.prepare_segmented, images, lungs))
        return np.stack([t for t, _ in prepared]), [g for _, g in prepared]

    def classify(self, inputs: list) -> tuple[list, float]:
        """One Prediction per input (with the model's own OOD verdict), and the ms per image."""
        import numpy as np

        start = time.perf_counter()
        if self.crops:
            tensors, geometries = self._prepare_cropped(inputs)
            preds = self.clf.predict_prepared(tensors, geometries)
        else:
            preds = self.clf.predict_prepared(np.stack(inputs))
        share = (time.perf_counter() - start) * 1000.0 / max(1, len(inputs))
        return preds, share

    def close(self) -> None:
        if self._prep_pool is not None:
            self._prep_pool.shutdown(wait=False, cancel_futures=True)


def _is_non_image_object(path: Path) -> bool:
    """A well-formed DICOM object of a class that has no pixels (SR, DICOMDIR, KOS...), not a damaged image."""
    from pydicom.uid import UID

    from cxviewer.imaging.deflate import dcmread_bounded
    from cxviewer.imaging.reader import not_a_regular_file

    if not_a_regular_file(path):
        return False
    try:
        ds = dcmread_bounded(path, defer_size=1024)
        sop = str(ds.get("SOPClassUID", "") or ds.file_meta.get("MediaStorageSOPClassUID", "") or "")
    except Exception:
        return False
    if not sop or any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        return False
    name = UID(sop).name
    return name != sop and "Image" not in name  # a registered class that is not an image class


def examine(path: Path, runner: _ModelRunner | None) -> _Examined:
    """Read one file, check it is in scope and prepare the model input. Never raises for bad files."""
    from cxviewer.imaging import UnreadableImageError, read_radiograph

    start = time.perf_counter()
    p = str(path)

    def done(status: str, message: str = "", **meta) -> _Examined:
        ms = (time.perf_counter() - start) * 1000.0
        return _Examined(ScanResult(path=p, status=status, error=message, ms=ms, **meta))

    try:
        rad = read_radiograph(path)
    except UnreadableImageError as exc:  # the path is in its own column: keep the reason alone
        reason = getattr(exc, "reason", None) or str(exc) or "unreadable image"
        # A report, DICOMDIR or other non-image object is not broken, just not an image to triage.
        return done("out_of_scope" if _is_non_image_object(path) else "error", reason)
    except MemoryError:
        return done("error", "not enough memory to decode this image")
    except Exception as exc:  # a reader bug must not end a night's scan; report it on the row
        return done("error", f"could not read the image ({type(exc).__name__}: {exc})")
    meta = {"patient_id": rad.patient_id or "", "study_uid": rad.study_uid or "", "sop_uid": rad.sop_uid or ""}
    try:
        reason = scope_problem(rad)
        if reason:
            return done("out_of_scope", reason, **meta)
        if runner is None:
            return done("ok", **meta)
        model_input = runner.model_input(rad)
    except MemoryError:
        return done("error", "not enough memory to prepare this image", **meta)
    except Exception as exc:
        return done("error", f"could not prepare the image for the model ({type(exc).__name__}: {exc})", **meta)
    item = done("ok", **meta)
    item.model_input = model_input
    return item


def _count_in_background(roots: list[Path], recursive: bool, progress: ScanProgress, stop: threading.Event) -> None:
    def work():
        total = count_files(roots, recursive, stop.is_set)
        if not stop.is_set():
            progress.total = total

    threading.Thread(target=work, name="scan-count", daemon=True).start()


def run_scan(
    roots: list[str | os.PathLike],
    on_result: Callable[[ScanResult], None],
    *,
    classifier=None,
    options: ScanOptions | None = None,
    cancel: threading.Event | None = None,
    on_progress: Callable[[ScanProgress], None] | None = None,
) -> ScanSummary:
    """Scan every image under ``roots``, calling ``on_result`` once per file as soon as its row is known.

    ``classifier=None`` checks files (readable, in scope, header) without classifying them.
    Setting ``cancel`` stops promptly: queued files are dropped, no further row is emitted, and
    files in flight or in an unfinished batch are left for ``--resume``.
    """
    options = options or ScanOptions()
    cancel = cancel or threading.Event()
    roots_abs = normalise_roots(roots)
    discovery = Discovery(roots_abs, recursive=options.recursive)
    progress = ScanProgress()
    stop_count = threading.Event()
    _count_in_background(roots_abs, options.recursive, progress, stop_count)
    batch_size = max(1, int(options.batch_size))
    workers = max(1, int(options.workers))
    runner = _ModelRunner(classifier, workers) if classifier is not None else None
    window = workers + 2 * batch_size  # decode jobs in flight: keeps workers busy through one inference
    skip = options.skip if isinstance(options.skip, (set, frozenset)) else set(options.skip)

    def report():
        progress.ignored = discovery.ignored
        if on_progress is not None:
            on_progress(progress)

    def emit(result: ScanResult):
        on_result(result)
        if result.status == "ok":
            progress.ok += 1
        elif result.status == "error":
            progress.errors += 1
        else:
            progress.out_of_scope += 1
        report()

    def new_paths():
        submitted = 0
        for path in discovery:
            if str(path) in skip:
                progress.already_done += 1
                continue
            if options.max_files is not None and submitted >= options.max_files:
                return
            submitted += 1
            yield path

    paths = new_paths()
    pending: deque[Future] = deque()
    batch: list[_Examined] = []
    exhausted = False
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan-decode")

    def fill():
        nonlocal exhausted
        while not exhausted and len(pending) < window and not cancel.is_set():
            path = next(paths, None)
            if path is None:
                exhausted = True
                break
            pending.append(pool.submit(examine_when_free, path))

    def wait(fut: Future) -> _Examined | None:
        while True:
            if cancel.is_set():
                return None
            try:
                return fut.result(timeout=0.1)
            except FutureTimeout:
                continue
            except CancelledError:
                return None

    free = threading.Event()  # cleared while a CPU-bound network runs (see _ModelRunner.exclusive)
    free.set()

    def examine_when_free(path):
        while not free.wait(0.1) and not cancel.is_set():
            pass
        return examine(path, runner)

    def run_batch():
        inputs = [item.model_input for item in batch]
        try:
            if runner.exclusive:
                free.clear()
            try:
                preds, share = runner.classify(inputs)
            finally:
                free.set()
        except Exception as exc:  # e.g. out of memory on the device: report, keep scanning
            for item in batch:
                r = item.result
                r.status, r.error = "error", f"classification failed ({type(exc).__name__}: {exc})"
                emit(r)
            batch.clear()
            return
        for item, pred in zip(batch, preds):
            r = item.result
            item.model_input = None
            r.ms = (r.ms or 0.0) + share
            r.model = runner.tag
            r.runtime, r.device = pred.runtime, pred.device
            r.ood_score = pred.ood_score
            if not pred.in_scope:
                r.status = "out_of_scope"
                r.error = pred.scope_text
            else:
                scores = dict(zip(runner.labels, pred.probabilities))
                for label, column in PROBABILITY_COLUMNS.items():
                    setattr(r, column, scores.get(label))
                r.label = max(scores, key=scores.get)
                r.call = pred.call or ""
                r.confidence = pred.confidence
            emit(r)
        batch.clear()

    cancelled = False
    try:
        fill()
        while pending:
            item = wait(pending.popleft())
            if item is None:
                cancelled = True
                break
            if item.model_input is None:
                emit(item.result)
            else:
                batch.append(item)
            fill()  # refill before a batch so the workers decode while the model runs
            if len(batch) >= batch_size and not cancel.is_set():
                run_batch()
        if batch and not cancel.is_set():
            run_batch()
        cancelled = cancelled or cancel.is_set()
    finally:
        stop_count.set()
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=not cancelled, cancel_futures=True)
        if runner is not None:
            runner.close()
    report()
    return ScanSummary(
        ok=progress.ok,
        errors=progress.errors,
        out_of_scope=progress.out_of_scope,
        ignored=discovery.ignored,
        already_done=progress.already_done,
        elapsed_s=progress.elapsed_s,
        cancelled=cancelled,
        skipped_dirs=list(discovery.skipped_dirs),
        model=runner.tag if runner else "",
    )
