"""One helper thread per process, for the part of a single film's work that can run beside the calling
thread (the second core): the full-size lung mask, made while the map is drawn. OpenCV and numpy let the
interpreter lock go, so the two really run at once. Started the first time it is asked for; a forked
child (the scan's decoding workers) starts its own."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

_helper: tuple[int, ThreadPoolExecutor] | None = None  # (process id, its pool): a forked child has no thread
_lock = threading.Lock()


def beside(work) -> Future:
    """Run ``work`` on this process's helper thread; its Future."""
    global _helper
    with _lock:
        if _helper is None or _helper[0] != os.getpid():
            _helper = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxviewer-helper"))
        return _helper[1].submit(work)
