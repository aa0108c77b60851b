"""Compressed pixel data are decoded in supervised worker processes.

The C decoders (GDCM, OpenJPEG) can abort, crash or spin on a hostile codestream; in the
viewer's own process that would take the window, a report or a whole batch scan down. Each
decode is therefore sent to a small persistent pool of worker processes (spawned, so no Qt or
TensorFlow state is inherited), each with an address-space limit. A worker that dies, runs out
of memory or out of time is replaced, and the decode fails with ``DecodeFailure`` whose
``reason`` a person can read ("the JPEG-LS decoder crashed on this file").

Why not ``concurrent.futures.ProcessPoolExecutor``: one dead worker breaks that whole executor
and fails every decode in flight, and it cannot stop a task that hangs. Here each worker has its
own pipe, so a death or a timeout costs only the decode that caused it.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
from typing import Any, NoReturn

# Workers: decodes run at the same time (the viewer's loader and prefetch, a scan's reader).
POOL_SIZE = 2
# Address space a worker may add to what it has after importing the decoders.
MEMORY_LIMIT = 1 << 30
# Seconds one decode may take: a 9-megapixel JPEG 2000 takes about 1 s on a loaded 2-core VM.
TIMEOUT_S = 60.0


class DecodeFailure(Exception):
    """A decode that did not produce pixels; ``reason`` is for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _limit_memory(budget: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the timeout still applies
        return
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = current + budget
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _serve(conn: Any, budget: int) -> None:
    """Worker main loop: (dataset, frame index) in, ("ok", pixels) or ("error", type, message) out."""
    import numpy  # noqa: F401 - imported before the limit is set, like the decoders below
    from pydicom.pixels import pixel_array

    try:  # load the decoder plug-ins now, outside the memory limit
        import gdcm  # noqa: F401
        import openjpeg  # noqa: F401
    except ImportError:
        pass
    from cxviewer.imaging.dicom_reader import first_frame_here  # a file sent by name (DecodePool.decode_ahead)

    _limit_memory(budget)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        except MemoryError:  # the request alone does not fit within the limit
            conn.send(("memory", "", "", _peak_rss()))
            continue
        ds, index = request
        try:
            if isinstance(ds, str):  # ("file", path): read, checked and decoded here; None: no decoder needed
                pixels = first_frame_here(index)
                reply: tuple = ("ok", pixels) if pixels is not None else ("none",)
            else:
                pixels = pixel_array(ds) if index is None else pixel_array(ds, index=index)
                reply = ("ok", pixels)
        except MemoryError:
            reply = ("memory", "", "")
        except Exception as exc:  # noqa: BLE001 - every decoder error goes back as data
            reply = ("error", type(exc).__name__, str(exc))
        del request, ds
        reply = (*reply, _peak_rss())
        try:
            conn.send(reply)
        except MemoryError:  # the pixels decoded but cannot be pickled within the limit
            conn.send(("memory", "", "", _peak_rss()))


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _peak_rss() -> int:
    """This process's peak resident memory in bytes (0 where unknown).

    On Linux the high-water mark of this process image (VmHWM): ``ru_maxrss`` survives exec, so a worker
    spawned from a large parent would report the parent's size at the fork."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class WorkerUnavailable(Exception):
    """No worker process can be started here (e.g. inside a daemonic process, or while the main
    module of an unguarded script is being imported by a child)."""


_start_lock = threading.Lock()


def _import_roots(paths: list[str]) -> list[str]:
    """``sys.path`` without folders inside site-packages: those are some package's own folders,
    put there for a moment by its loader (OpenCV's does so while it is imported), and a child
    started in that moment would import ``typing`` from ``cv2/typing``."""
    sites = [p for p in paths if os.path.basename(os.path.normpath(p)) in ("site-packages", "dist-packages")]
    return [p for p in paths if not any(p != s and os.path.normpath(p).startswith(os.path.normpath(s) + os.sep) for s in sites)]


def _start(process: Any) -> None:
    """``process.start()`` with a child ``sys.path`` of import roots only (see ``_import_roots``)."""
    from multiprocessing import spawn

    original = spawn.get_preparation_data

    def prepared(name: str) -> dict:
        data = original(name)
        if "sys_path" in data:
            data["sys_path"] = _import_roots(list(data["sys_path"]))
        return data

    with _start_lock:
        spawn.get_preparation_data = prepared
        try:
            process.start()
        finally:
            spawn.get_preparation_data = original


class _Worker:
    def __init__(self, context: Any, budget: int) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, budget), daemon=True, name="cxviewer-decoder")
        _start(self.process)
        child.close()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class DecodePool:
    """Up to ``size`` worker processes, started on first use and replaced when they die."""

    def __init__(self, size: int = POOL_SIZE, memory_limit: int = MEMORY_LIMIT, timeout_s: float = TIMEOUT_S) -> None:
        self.size, self.memory_limit, self.timeout_s = size, memory_limit, timeout_s
        self._context = multiprocessing.get_context("spawn")
        self._slots = threading.Semaphore(size)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._started: list[_Worker] = []  # every worker started and not killed, idle or decoding
        self._ahead: dict[str, tuple[_Worker, tuple[int, int] | None]] = {}  # path -> its worker, file stamp
        self.deaths = 0  # workers lost to crashes, memory or timeouts (for tests and logs)
        self.peak_worker_rss = 0  # largest peak resident memory a worker reported, in bytes

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    return worker
                worker.kill()  # (under the lock: not self._kill)
                if worker in self._started:
                    self._started.remove(worker)
        try:
            worker = _Worker(self._context, self.memory_limit)
        except (AssertionError, RuntimeError, OSError) as exc:
            raise WorkerUnavailable(str(exc)) from exc
        with self._lock:
            self._started.append(worker)
        return worker

    def _kill(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._started:
                self._started.remove(worker)

    def workers(self) -> int:
        """Worker processes started and alive (idle or decoding)."""
        return len(self.worker_pids())

    def worker_pids(self) -> list[int]:
        """Process ids of the workers started and alive (idle or decoding)."""
        with self._lock:
            return [w.process.pid for w in self._started if w.process.is_alive()]

    def warm_up(self) -> None:
        """Start one worker now so that the first decode does not wait for it; nothing when one is running
        already (a second one starting now would only compete with a decode in flight for the CPU)."""
        if self.workers():
            return
        with self._slots:
            worker = self._take()
            with self._lock:
                self._idle.append(worker)

    def decode(self, ds: Any, index: int | None, codec: str, timeout_s: float | None = None,
               source: str | os.PathLike | None = None) -> Any:
        """Pixels of ``ds`` (frame ``index``, or all when None) decoded in a worker. ``source``: the file ``ds``
        was read from; when it was sent ahead (``decode_ahead``) and has not changed since, its first frame
        is collected from that worker instead of being sent again."""
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        ahead = self._claim_ahead(source) if source is not None and index == 0 else None
        if ahead is not None:
            worker, fresh = ahead
            try:
                reply = self._receive(worker, codec, timeout_s)
            finally:
                self._slots.release()
            # pixels, or the decoder's own failure, are the answer; a read or check that failed there (it cannot
            # for an unchanged file the reader has just read and checked here) leaves it to the usual decode
            if fresh and reply[0] != "none" and reply[:2] != ("error", "UnreadableImageError"):
                return self._pixels(reply, codec)
        with self._slots:
            worker = self._take()
            try:
                worker.conn.send((ds, index))
            except (OSError, pickle.PicklingError) as exc:
                self._lost(worker, codec, exc)
            reply = self._receive(worker, codec, timeout_s)
        return self._pixels(reply, codec)

    def decode_ahead(self, path: str | os.PathLike) -> None:
        """Send the file ``path`` to a worker now, by name: the worker reads it, makes the reader's checks and
        decodes its first frame (``dicom_reader.first_frame_here``) while this process is still importing its
        own reader. The next ``decode`` with ``source=path`` collects the pixels; ``drop_ahead`` releases them."""
        key = os.path.abspath(path)
        stamp = _stamp(key)
        self._slots.acquire()
        try:
            worker = self._take()
        except BaseException:
            self._slots.release()
            raise
        try:
            worker.conn.send(("file", key))
        except (OSError, pickle.PicklingError):
            self._kill(worker)
            self._slots.release()
            return  # the read decodes as usual, with a fresh worker
        with self._lock:
            self._ahead[key] = (worker, stamp)

    def drop_ahead(self, path: str | os.PathLike, wait_s: float = 5.0) -> None:
        """Release a decode sent ahead and never collected (the file was refused before its pixels were
        needed, or needed no decoder): its answer is awaited briefly, else the worker is stopped."""
        ahead = self._claim_ahead(path)
        if ahead is None:
            return
        worker = ahead[0]
        try:
            if worker.conn.poll(wait_s):
                self._receive(worker, "", 0)
            else:
                self._kill(worker)
        except (DecodeFailure, OSError, EOFError):
            pass
        finally:
            self._slots.release()

    def _claim_ahead(self, path: str | os.PathLike) -> tuple[_Worker, bool] | None:
        """The worker holding the decode sent ahead for ``path`` (and whether the file is unchanged), or None."""
        key = os.path.abspath(path)
        with self._lock:
            entry = self._ahead.pop(key, None)
        return None if entry is None else (entry[0], entry[1] is not None and entry[1] == _stamp(key))

    def _receive(self, worker: _Worker, codec: str, timeout_s: float) -> tuple:
        """The reply of ``worker`` to its request; the worker goes back to the idle ones (or is replaced)."""
        try:
            if not worker.conn.poll(timeout_s):
                self._kill(worker)
                self.deaths += 1
                raise DecodeFailure(f"the {codec} decoder did not finish within {timeout_s:.0f} s on this file")
            reply = worker.conn.recv()
        except (EOFError, OSError, pickle.PicklingError) as exc:
            self._lost(worker, codec, exc)
        with self._lock:
            self._idle.append(worker)
            self.peak_worker_rss = max(self.peak_worker_rss, reply[-1])
        return reply

    def _lost(self, worker: _Worker, codec: str, exc: Exception) -> NoReturn:
        worker.process.join(5)
        code = worker.process.exitcode
        self._kill(worker)
        self.deaths += 1
        raise DecodeFailure(self._death_reason(codec, code, exc)) from None

    def _pixels(self, reply: tuple, codec: str) -> Any:
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "memory":
            raise DecodeFailure(f"the {codec} decoder needed more than {self.memory_limit >> 20} MiB of memory for this file")
        raise DecodeFailure(f"{reply[1]}: {reply[2]}")

    @staticmethod
    def _death_reason(codec: str, code: int | None, exc: Exception) -> str:
        if code is not None and code < 0 and -code in (signal.SIGKILL,):
            return f"the {codec} decoder ran out of memory on this file"
        if code is None and not isinstance(exc, EOFError):
            return f"the {codec} decoder could not be reached ({exc})"
        return f"the {codec} decoder crashed on this file"

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            self._kill(worker)


_pool: DecodePool | None = None
_pool_lock = threading.Lock()


def pool() -> DecodePool:
    """The process-wide pool (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = DecodePool()
        return _pool
