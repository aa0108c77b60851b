"""A one-line progress display for terminals (counts, rate, ETA), redrawn at most a few times a second."""

from __future__ import annotations

import time
from typing import TextIO

from cxviewer.scan.state import ScanProgress


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def progress_line(p: ScanProgress) -> str:
    total = "?" if p.total is None else str(p.total)
    return (
        f"{p.examined}/{total} files | ok {p.ok}, errors {p.errors}, out of scope {p.out_of_scope} | "
        f"{p.rate:.1f} files/s | ETA {format_duration(p.eta_s)}"
    )


class TerminalProgress:
    """Callable for ``run_scan(on_progress=...)``; does nothing unless the stream is a terminal."""

    INTERVAL_S = 0.2

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._last = 0.0
        self._width = 0

    def __call__(self, progress: ScanProgress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.INTERVAL_S:
            return
        self._last = now
        line = progress_line(progress)
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
