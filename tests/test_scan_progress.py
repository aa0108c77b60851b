"""Progress on stderr: counts, rate and ETA on a terminal; nothing at all when stderr is a file or pipe."""

from __future__ import annotations

import io
import time

import pytest
from scan_corpus import CXR, needs_shared

from cxviewer.scan import ScanOptions, ScanProgress, run_scan
from cxviewer.scan.progress import TerminalProgress, format_duration, progress_line

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@needs_shared
def test_progress_line_on_a_terminal_only():
    tty, pipe = _Tty(), io.StringIO()
    on_tty, on_pipe = TerminalProgress(tty), TerminalProgress(pipe)
    on_tty.INTERVAL_S = on_pipe.INTERVAL_S = 0.0

    def progress(p):
        on_tty(p)
        on_pipe(p)

    summary = run_scan([CXR / "pneumonia"], lambda r: None, options=ScanOptions(max_files=40), on_progress=progress)
    on_tty.close()
    assert pipe.getvalue() == ""
    text = tty.getvalue()
    assert text.startswith("\r") and text.endswith("\r")  # redrawn in place, cleared at the end
    last = [line for line in text.split("\r") if line.strip()][-1]
    assert "ok 40" in last and "files/s" in last and "ETA" in last
    assert summary.ok == 40


def test_rate_and_eta_from_counts():
    p = ScanProgress(started=time.monotonic() - 10.0)
    p.ok, p.errors, p.out_of_scope, p.ignored, p.already_done = 30, 5, 5, 10, 50
    assert p.eta_s is None  # total not counted yet
    p.total = 180
    assert p.scanned == 40 and p.examined == 100
    assert p.rate == pytest.approx(4.0, rel=0.05)
    assert p.eta_s == pytest.approx(80 / 4.0, rel=0.05)


def test_formats():
    assert format_duration(None) == "?"
    assert format_duration(59.4) == "59s"
    assert format_duration(61) == "1m01s"
    assert format_duration(3 * 3600 + 120) == "3h02m"

    class P:
        examined, total, ok, errors, out_of_scope, rate, eta_s = 10, 100, 8, 1, 1, 5.0, 18.0

    assert progress_line(P) == "10/100 files | ok 8, errors 1, out of scope 1 | 5.0 files/s | ETA 18s"
