"""Shared helpers for the benchmarks: data paths, timing (warm-up + median), result lines, machine facts.

Every benchmark runs in a fresh child process started by ``run.py``; a child prints its results as
``BENCH {json}`` lines on stdout (libraries may print other things there) and the parent relays them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
DICOM_DIR = SHARED / "dicom"
CXR_DIR = SHARED / "cxr" / "images"
MARK = "BENCH "


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def time_calls(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Seconds per call of ``fn``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def interleaved(a: Callable[[], float], b: Callable[[], float], repeats: int, warmup: int = 1):
    """Run two measurements alternately (each returns its own figure) so both see the same load.

    Returns the two lists of figures, warm-up rounds dropped.
    """
    return interleaved_all((a, b), repeats, warmup)


def interleaved_all(measures, repeats: int, warmup: int = 1) -> list[list[float]]:
    """:func:`interleaved` for any number of measurements: one of each per round, in order, so all see the
    same load (on a shared machine the load drifts between minutes). One list of figures per measurement."""
    for _ in range(warmup):
        for m in measures:
            m()
    out: list[list[float]] = [[] for _ in measures]
    for _ in range(repeats):
        for figures, m in zip(out, measures):
            figures.append(m())
    return out


def check_target(target: str | None, value: float | None, ratio: float | None) -> bool | None:
    """``target`` reads like "ratio <= 1.5" or "value <= 50"; None when there is no target."""
    if not target or value is None:
        return None
    what, op, limit = target.split()[:3]
    x = ratio if what == "ratio" else value
    if x is None:
        return None
    return x <= float(limit) if op == "<=" else x >= float(limit)


def result(name: str, value: float | None, unit: str, baseline: float | None, target: str | None,
           **extra) -> dict:
    ratio = value / baseline if value is not None and baseline else None
    rec = {
        "name": name,
        "value": _round(value),
        "unit": unit,
        "baseline": _round(baseline),
        "ratio": _round(ratio, 3),
        "target": target,
        "met": check_target(target, value, ratio),
    }
    rec.update({k: _round(v) if isinstance(v, float) else v for k, v in extra.items()})
    return rec


def skipped(name: str, unit: str, target: str | None, reason: str, **extra) -> dict:
    return result(name, None, unit, None, target, skipped=reason, **extra)


def emit(rec: dict) -> None:
    print(MARK + json.dumps(rec), flush=True)


def _round(x, digits: int = 2):
    if x is None:
        return None
    return round(float(x), digits)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if m:
            return m.group(1).strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """Facts to print with every line: the figures only mean something next to them."""
    try:
        gpu = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        gpu = ""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "gpu": gpu or "none"}


def load_average() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def rss_mb() -> float:
    """Current resident set size (Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def model_dir(arg: str | None) -> Path | None:
    """The model to benchmark: ``--model`` or the bundled default; None when none is installed."""
    if arg:
        return Path(arg)
    from cxviewer.model import available_models, default_model_dir

    return default_model_dir() if available_models() else None
