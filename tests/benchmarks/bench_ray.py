"""``cxviewer scan --ray local`` against the local scan, same films, same run, runs interleaved.

    python tests/benchmarks/run.py --only ray_scan_throughput [--repeats N]

A Ray run has a fixed start-up (its Ray Data pipeline starts worker processes and a model actor, which imports
and loads the model), then a rate; the local scan, in a process that has loaded the model, has almost none.
Each engine is timed on a small folder (one batch, 16 films) and a large one (240 films); with T(n) = S + n / r:

- value / baseline: the rate r = (240 - 16) / (T(240) - T(16)), films per second once started (what decides an
  archive's hours: 10^5 films take hours, the start-up seconds);
- ``startup_s_*``: S = T(16) - 16 / r, the fixed cost of one run (``ray.init`` itself, once per command, is
  ``cluster_start_s``);
- ``end_to_end_*``: 240 films / T(240), start-up included.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from bench_model import SCAN_BATCH, _classifier, scan_folder
from common import emit, median, result, skipped

RAY_IMAGES = 240


def ray_scan_throughput(repeats: int, model: str | None = None, **_) -> None:
    target = "ratio >= 0.8"
    try:
        import ray
        import ray.data
    except ImportError:
        emit(skipped("ray_scan_throughput", "images/s", target, "Ray is not installed (the [cluster] extra)"))
        return
    clf = _classifier(model)
    if clf is None:
        emit(skipped("ray_scan_throughput", "images/s", target, "no model installed"))
        return
    from cxviewer.scan import ScanOptions, run_scan
    from cxviewer.scan.ray_scan import RayOptions, run_ray_scan, worker_env

    with tempfile.TemporaryDirectory(prefix="cxbench-ray-") as tmp:
        folder, small = Path(tmp) / "images", Path(tmp) / "one-batch"
        scan_folder(folder, RAY_IMAGES)
        small.mkdir()
        for src in sorted(folder.iterdir())[:SCAN_BATCH]:
            shutil.copy2(src, small / src.name)
        n = len(list(folder.iterdir()))
        options = ScanOptions(batch_size=SCAN_BATCH)
        t0 = time.perf_counter()
        ray.init(include_dashboard=False, runtime_env=worker_env(), log_to_driver=False)  # what --ray local does
        cluster_start = time.perf_counter() - t0
        last = {}

        def local(root: Path) -> float:
            rows = []
            t0 = time.perf_counter()
            run_scan([root], rows.append, classifier=clf, options=options)
            assert len(rows) == len(list(root.iterdir()))
            return time.perf_counter() - t0

        def on_ray(root: Path) -> float:
            rows = []
            t0 = time.perf_counter()
            summary = run_ray_scan([root], rows.append, classifier=clf, options=options,
                                   cluster=RayOptions(address="local"))
            elapsed = time.perf_counter() - t0
            assert len(rows) == len({r.path for r in rows}) == len(list(root.iterdir())), summary.text()
            last["summary"] = summary
            return elapsed

        try:
            local(folder), on_ray(folder)  # warm-up: page cache, worker processes, decoder pools
            times = {"local": ([], []), "ray": ([], [])}  # (T(16), T(240)) per round
            for _ in range(repeats):
                for name, engine in (("local", local), ("ray", on_ray)):
                    times[name][0].append(engine(small))
                    times[name][1].append(engine(folder))
        finally:
            ray.shutdown()
        k = SCAN_BATCH
        fit = {}
        for name, (t_small, t_large) in times.items():
            rate = (n - k) / (median(t_large) - median(t_small))
            fit[name] = (rate, median(t_small) - k / rate, n / median(t_large))
        stages = last["summary"].stage_s
        driver_s = stages.get("writing", 0.0) + stages.get("discovery", 0.0)
        emit(result(
            "ray_scan_throughput", fit["ray"][0], "images/s", fit["local"][0], target,
            images=n, batch_size=SCAN_BATCH, cores=os.cpu_count(), model=clf.card.title, actors=1,
            baseline_is="run_scan (the local scan), same films, runs interleaved; rate = films/s once started",
            startup_s_ray=fit["ray"][1], startup_s_local=fit["local"][1],
            end_to_end_ray=fit["ray"][2], end_to_end_local=fit["local"][2],
            runs_s={name: [[round(x, 2) for x in ts] for ts in pair] for name, pair in times.items()},
            cluster_start_s=cluster_start,
            **{f"stage_{k.replace(' ', '_').replace('-', '_')}_s": v for k, v in stages.items()},
            # the driver's own work per row (discovery + writing): its ceiling however many nodes work for it
            driver_ceiling_images_per_s=n / driver_s if driver_s > 0 else None,
        ))
