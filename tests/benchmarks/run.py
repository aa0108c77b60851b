"""Benchmarks of every user-visible wait against its floor, each floor measured in the same run.

    python tests/benchmarks/run.py [--only NAME ...] [--repeats N] [--model DIR]

Prints one JSON object per line: name, value, unit, baseline, ratio, target, met (plus the case,
what the baseline is, the machine and its load). Each benchmark runs in a fresh child process
(offscreen Qt, settings under a temporary CXVIEWER_HOME), with warm-up rounds and the median of
``--repeats`` measurements; viewer and baseline are measured alternately so both see the same load.
Not collected by pytest (see ``addopts`` in pyproject.toml).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# name -> (module in this folder, function)
BENCHMARKS = {
    "open_to_pixels": ("bench_viewer", "open_to_pixels"),
    "window_level_frame": ("bench_viewer", "window_level_frame"),
    "inference_end_to_end": ("bench_model", "inference_end_to_end"),
    "batch_scan_throughput": ("bench_model", "batch_scan_throughput"),
    "ui_stall_during_inference": ("bench_ui_stall", "ui_stall_during_inference"),
    "startup_to_window": ("bench_startup", "startup_to_window"),
    "memory_50_images": ("bench_viewer", "memory_50_images"),
    "cold_predict": ("bench_litert", "cold_predict"),
    "inference_litert": ("bench_litert", "inference_litert"),
    "scan_litert": ("bench_litert", "scan_litert"),
    "first_ai_result_and_quit": ("bench_litert", "first_ai_result_and_quit"),
    "ray_scan_throughput": ("bench_ray", "ray_scan_throughput"),
}


def _child(name: str, repeats: int, model: str | None) -> int:
    import importlib

    module, func = BENCHMARKS[name]
    getattr(importlib.import_module(module), func)(repeats=repeats, model=model)
    return 0


def _run_one(name: str, repeats: int, model: str | None, facts: dict, verbose: bool) -> int:
    from common import MARK, load_average, skipped

    with tempfile.TemporaryDirectory(prefix="cxbench-home-") as home:
        repo = HERE.parents[1]
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CXVIEWER_HOME=home, TF_CPP_MIN_LOG_LEVEL="2",
                   PYTHONPATH=os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--repeats", str(repeats)]
        if model:
            cmd += ["--model", model]
        load = load_average()
        t0 = time.perf_counter()
        errors = open(Path(home) / "stderr.txt", "w+")  # a file, not a pipe: TensorFlow can say a lot
        proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE,
                                stderr=None if verbose else errors, text=True)
        lines = 0
        for line in proc.stdout:
            if line.startswith(MARK):
                rec = json.loads(line[len(MARK):])
                rec.update(load_1min=load, **facts)
                print(json.dumps(rec), flush=True)
                lines += 1
        rc = proc.wait()
        errors.seek(0)
        stderr_tail = errors.read()[-3000:]
        errors.close()
        if rc != 0 or lines == 0:
            rec = skipped(name, "", None, f"benchmark failed (exit {rc})", stderr_tail=stderr_tail)
            print(json.dumps(rec), flush=True)
            return 1
        if verbose:
            print(f"# {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    parser.add_argument("--repeats", type=int, default=5, help="measured repeats per figure (median; default 5)")
    parser.add_argument("--model", help="model folder (default: the bundled model)")
    parser.add_argument("--verbose", action="store_true", help="show the children's stderr")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.repeats, args.model)
    from common import machine

    facts = machine()
    failed = 0
    for name in args.only or list(BENCHMARKS):
        failed += _run_one(name, max(1, args.repeats), args.model, facts, args.verbose)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
