"""The local scan engine: discover -> decode + scope + prepare (thread pool) -> batched inference -> rows.

Files stream through a bounded window of decode jobs, so memory stays flat however large the
folder. Worker threads read, check scope and prepare the model tensor (the codecs, OpenCV and
numpy release the GIL), while the calling thread runs the model on full batches; the window is
refilled before each batch so decoding overlaps inference. Results leave in a deterministic
order: files that need no inference (errors, out of scope) as soon as they are reached in
discovery order, classified files when their batch is done.

The steps themselves (:mod:`cxviewer.scan.steps`) are shared with the Ray engine (``ray_scan``).
Qt-free: the CLI calls :func:`run_scan` directly, the GUI from a QThread worker.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from cxviewer.scan.discovery import Discovery, count_files, normalise_roots
from cxviewer.scan.results import ScanResult
from cxviewer.scan.state import (  # noqa: F401 - the names callers know from here
    DEFAULT_BATCH_SIZE,
    ScanOptions,
    ScanProgress,
    ScanSummary,
    StageClock,
    default_workers,
)
from cxviewer.scan.steps import BatchInference, Examined, RowWriter, examine, load_readers, new_paths


def count_in_background(roots: list[Path], recursive: bool, progress: ScanProgress, stop: threading.Event) -> None:
    """Fill ``progress.total`` (for the ETA) from a cheap count of every file, on a daemon thread."""

    def work():
        total = count_files(roots, recursive, stop.is_set)
        if not stop.is_set():
            progress.total = total

    threading.Thread(target=work, name="scan-count", daemon=True).start()


class _DecodeWindow:
    """Step 2 on a thread pool: at most ``size`` files in flight, taken in discovery order.

    While a CPU-bound network runs (``BatchInference.exclusive``) the workers wait before starting a file.
    """

    def __init__(self, paths, inference: BatchInference | None, workers: int, size: int, cancel, clock: StageClock):
        self.paths = paths
        self.recipe = inference.recipe if inference is not None else None
        self.size = size
        self.cancel = cancel
        self.clock = clock
        self.pending: deque[Future] = deque()
        self.exhausted = False
        self.free = threading.Event()
        self.free.set()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan-decode")

    def fill(self) -> None:
        while not self.exhausted and len(self.pending) < self.size and not self.cancel.is_set():
            start = time.perf_counter()
            path = next(self.paths, None)
            self.clock.add("discovery", time.perf_counter() - start)
            if path is None:
                self.exhausted = True
                break
            self.pending.append(self.pool.submit(self._examine_when_free, path))

    def _examine_when_free(self, path) -> Examined:
        while not self.free.wait(0.1) and not self.cancel.is_set():
            pass
        item = examine(path, self.recipe)
        self.clock.add("decode", item.decode_s)
        return item

    def next(self) -> Examined | None:
        """The oldest job's answer, or ``None`` when cancelled."""
        fut = self.pending.popleft()
        while True:
            if self.cancel.is_set():
                return None
            try:
                return fut.result(timeout=0.1)
            except FutureTimeout:
                continue
            except CancelledError:
                return None

    def close(self, wait: bool) -> None:
        for fut in self.pending:
            fut.cancel()
        self.pool.shutdown(wait=wait, cancel_futures=True)


def _run_batch(batch: list[Examined], inference: BatchInference, window: _DecodeWindow, rows: RowWriter, clock: StageClock):
    """Step 3 then 4 for one batch; the decoders pause while a CPU-bound network runs."""
    if inference.exclusive:
        window.free.clear()
    try:
        with clock.timing("inference"):
            results = inference.infer(batch)
    finally:
        window.free.set()
    with clock.timing("writing"):
        for r in results:
            rows.write(r)
    batch.clear()


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
    clock = StageClock()
    batch_size = max(1, int(options.batch_size))
    workers = max(1, int(options.workers))
    inference = BatchInference(classifier, workers) if classifier is not None else None  # refuses unwritable labels
    load_readers()
    stop_count = threading.Event()
    count_in_background(roots_abs, options.recursive, progress, stop_count)
    skip = options.skip if isinstance(options.skip, (set, frozenset)) else set(options.skip)
    rows = RowWriter(on_result, progress, on_progress, discovery)
    paths = new_paths(discovery, skip, options.max_files, progress)
    # decode jobs in flight: keeps the workers busy through one inference
    window = _DecodeWindow(paths, inference, workers, workers + 2 * batch_size, cancel, clock)
    batch: list[Examined] = []
    cancelled = False
    try:
        window.fill()
        while window.pending:
            item = window.next()
            if item is None:
                cancelled = True
                break
            if item.model_input is None:
                with clock.timing("writing"):
                    rows.write(item.result)
            else:
                batch.append(item)
            window.fill()  # refill before a batch so the workers decode while the model runs
            if len(batch) >= batch_size and not cancel.is_set():
                _run_batch(batch, inference, window, rows, clock)
        if batch and not cancel.is_set():
            _run_batch(batch, inference, window, rows, clock)
        cancelled = cancelled or cancel.is_set()
    finally:
        stop_count.set()
        window.close(wait=not cancelled)
        if inference is not None:
            inference.close()
    rows.report()
    return ScanSummary.of_run(progress, discovery, inference, clock, cancelled)
