"""Start-up time of a built bundle: seconds from process start to the window, the drawn sample, the AI result.

    .venv/bin/python packaging/measure_startup.py [dist/cxviewer] [--runs 5]

Runs ``cxviewer --smoke-test`` headless (offscreen) in a bare environment with an empty home,
alternating cold runs (the bundle's files dropped from the page cache first, so they are read
from disk as after a reboot; Linux) and warm runs, and prints the median of each. The figures
in README's "Desktop bundle" section come from here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def evict(folder: Path) -> None:
    for f in folder.rglob("*"):
        if f.is_file() and not f.is_symlink():
            with open(f, "rb") as fh:
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def run_once(bundle: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
               "CXVIEWER_HOME": str(Path(home) / "cxviewer")}
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(bundle / "cxviewer"), "--smoke-test"], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        seen = {}
        for line in proc.stdout:
            if line.startswith("smoke-test "):
                seen[json.loads(line[len("smoke-test "):])["event"]] = time.perf_counter() - t0
        if proc.wait() != 0:
            raise SystemExit(f"the smoke test failed (exit {proc.returncode})")
        seen["exit"] = time.perf_counter() - t0
        return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?", default="dist/cxviewer", type=Path)
    parser.add_argument("--runs", type=int, default=5, help="cold and warm runs each (default 5)")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"cold": [], "warm": []}
    for _ in range(args.runs):
        evict(args.bundle)
        results["cold"].append(run_once(args.bundle))
        results["warm"].append(run_once(args.bundle))
    for kind, runs in results.items():
        medians = {e: statistics.median(r[e] for r in runs) for e in ("window", "image", "prediction", "exit")
                   if all(e in r for r in runs)}
        print(f"{kind} ({len(runs)} runs, median s): " + ", ".join(f"{e} {t:.1f}" for e, t in medians.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
