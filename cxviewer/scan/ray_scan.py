"""The scan on a Ray cluster (``cxviewer scan --ray``): the local scan's steps, spread with Ray Data.

- discover (step 1) on the driver, as locally; a first task checks that a worker can read the first file;
- examine (step 2: read, decode, scope, model input) in Ray Data tasks, a block of files per task;
- infer (step 3) in an actor pool: each actor loads the model once and classifies batches;
- write (step 4) on the driver: rows stream back and are written one by one to the same CSV / JSON Lines
  files, with the same ``--resume`` (the driver skips what the files already hold).

Fault tolerance: Ray Data retries a task whose worker died and restarts a killed actor and retries its batch.
A row can therefore arrive twice (a batch finished just before its actor was killed): the driver writes each
path once. A block that still fails after its retries (a file that takes its worker process down every time)
is dropped by Ray Data; its files are scanned again one file per task, and a file that fails again becomes an
error row, as a decoder crash does locally. Ray is imported here only: the app and the local scan never load it.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cxviewer.scan.discovery import Discovery, normalise_roots
from cxviewer.scan.guards import ScanSetupError
from cxviewer.scan.pipeline import count_in_background
from cxviewer.scan.quiet import quiet_readers
from cxviewer.scan.results import ScanResult
from cxviewer.scan.state import ScanOptions, ScanProgress, ScanSummary, StageClock
from cxviewer.scan.steps import (
    BatchInference,
    InputRecipe,
    RowWriter,
    examine,
    load_readers,
    new_paths,
)

TASK_RETRIES = 3  # a decode task whose worker died is tried again this many times
LOST_REASON = ("the worker process scanning this file died every time it was tried (a decoder crash?); "
               "the file was not classified")


@dataclass
class RayOptions:
    """Where and how wide: ``address`` "local" starts Ray here, anything else (``auto``, ``ray://host:10001``) joins."""

    address: str = "local"
    workers: int | None = None  # model actors; None: one per node (or per GPU share with gpus_per_worker)
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0  # logical CPUs an actor reserves (LiteRT still uses the node's cores)
    decode_cpus: float = 0.5  # logical CPUs a decode task reserves: two decoders per core share of the scheduler
    files_per_task: int = 16  # files a decode task reads (a lost task costs this many files' work)


def _import_ray():
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ScanSetupError(
            f"--ray needs Ray with Ray Data ({exc}); install it with: pip install 'cxviewer[cluster]'"
        ) from None
    return ray


def worker_env() -> dict:
    """The runtime environment that lets workers started here import this same cxviewer (source checkouts too)."""
    import cxviewer

    root = str(Path(cxviewer.__file__).resolve().parent.parent)
    extra = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(dict.fromkeys([root, *extra]))}}


def connect(address: str) -> tuple[object, bool, str | None]:
    """(ray, started_here, private temp folder or None): joins the cluster at ``address``, or starts one on this
    machine for "local". A cluster started here keeps its session (spilled objects are decoded films; logs name
    files) inside a new owner-only folder (``mkdtemp``: 0700; Ray makes its own temp folder, in it, 0777, which the
    parent makes moot), short, for Ray's socket paths; the caller removes it after ``ray.shutdown()``."""
    ray = _import_ray()
    if ray.is_initialized():
        return ray, False, None
    temp_dir = None
    try:
        if address == "local":
            import tempfile

            temp_dir = tempfile.mkdtemp(prefix="cxv-ray-")  # 0700; Ray makes its own folder in it 0777
            ray.init(include_dashboard=False, runtime_env=worker_env(), log_to_driver=False,
                     logging_level="WARNING", configure_logging=True, _temp_dir=os.path.join(temp_dir, "r"))
        else:
            ray.init(address=address, log_to_driver=False, logging_level="WARNING")
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds for an unreachable cluster
        remove_temp_dir(temp_dir)
        raise ScanSetupError(f"cannot {'start Ray here' if address == 'local' else 'reach the Ray cluster at ' + address}: "
                             f"{type(exc).__name__}: {exc}") from None
    return ray, True, temp_dir


def remove_temp_dir(temp_dir: str | None) -> None:
    """The session folder of a cluster started here, once it has shut down."""
    if temp_dir:
        import shutil

        shutil.rmtree(temp_dir, ignore_errors=True)


# Steps run on the workers ----------------------------------------------------------------------------------


def _probe(path_bytes: bytes) -> tuple[str, str]:
    """(host, problem or ""): can this worker open and read ``path``?"""
    import socket

    path = os.fsdecode(path_bytes)
    try:
        with open(path, "rb") as fh:
            fh.read(1)
        return socket.gethostname(), ""
    except OSError as exc:
        return socket.gethostname(), f"{exc.strerror or exc}"


class NodePause:
    """The local scan's rule across processes: while a CPU-bound network (LiteRT) runs on a node, that node's
    decode tasks wait before starting their next file (XNNPACK's threads otherwise wait for each other and
    both run slower). A flag file in the node's own temporary
    folder, so each node pauses only for its own actors; a flag older than ``STALE_S`` (its actor was
    killed mid-batch) is ignored."""

    STALE_S = 60.0

    def __init__(self, name: str):
        import tempfile

        self.flag = os.path.join(tempfile.gettempdir(), name)

    def wait(self) -> None:
        while True:
            try:
                if time.time() - os.stat(self.flag).st_mtime > self.STALE_S:
                    return
            except OSError:
                return
            time.sleep(0.01)

    def __enter__(self):
        with open(self.flag, "w"):
            pass
        return self

    def __exit__(self, *exc) -> None:
        try:
            os.unlink(self.flag)
        except OSError:
            pass


def _examine_block(table, recipe: InputRecipe | None, pause: str):
    """Step 2 for a block of files: each file's ``Examined`` (row, prepared input, decode time), pickled."""
    import pyarrow as pa

    quiet_readers()
    load_readers()
    node = NodePause(pause)
    paths = table.column("path").to_pylist()
    items = []
    for p in paths:
        node.wait()
        items.append(pickle.dumps(examine(os.fsdecode(p), recipe), protocol=pickle.HIGHEST_PROTOCOL))
    return pa.table({"path": pa.array(paths, pa.binary()), "item": pa.array(items, pa.large_binary())})


class _InferActor:
    """Step 3 in an actor: the model loaded once, then one forward pass per batch; rows out, pickled."""

    def __init__(self, model_dir: str, runtime: str | None, threads: int, pause: str, batch_size: int):
        from cxviewer.model import load_classifier

        quiet_readers()
        self.inference = BatchInference(load_classifier(model_dir, runtime), threads)
        self.pause = NodePause(pause)
        self.inference.warm_up(batch_size)  # while the decode tasks read the first files

    def __del__(self):
        """Ray Data drops the UDF when it shuts the actor down gracefully: stop the model's prepare threads."""
        inference = getattr(self, "inference", None)  # absent when the model failed to load
        if inference is not None:
            inference.close()

    def __call__(self, table):
        if not self.inference.exclusive:
            return _rows_table(table, self.inference)
        with self.pause:
            return _rows_table(table, self.inference)


def _rows_table(table, inference: BatchInference | None):
    import pyarrow as pa

    items = [pickle.loads(b) for b in table.column("item").to_pylist()]
    todo = [item for item in items if item.model_input is not None]
    classified = {id(item) for item in todo}
    infer_s = 0.0
    if todo:
        start = time.perf_counter()
        inference.infer(todo)  # fills each item's result in place
        infer_s = (time.perf_counter() - start) / len(todo)
    return pa.table({
        "path": table.column("path"),
        "row": pa.array([pickle.dumps(item.result, protocol=pickle.HIGHEST_PROTOCOL) for item in items], pa.binary()),
        "decode_s": pa.array([item.decode_s for item in items], pa.float64()),
        "infer_s": pa.array([infer_s if id(item) in classified else 0.0 for item in items], pa.float64()),
    })


def _checks_only(table):
    """Step 3 without a model: the decode step's rows as they are."""
    return _rows_table(table, None)


# The driver ------------------------------------------------------------------------------------------------


def check_worker_reads(ray, path: bytes) -> None:
    """Fail early, with the fix, when a worker cannot read ``path`` (no shared filesystem, another mount point)."""
    try:
        host, problem = ray.get(ray.remote(num_cpus=0, max_retries=1)(_probe).remote(path), timeout=300)
    except Exception as exc:  # noqa: BLE001 - e.g. cxviewer not importable on the workers
        raise ScanSetupError(
            f"a Ray worker could not check the first file ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}); "
            "every node needs the same cxviewer installed and the same paths"
        ) from None
    if problem:
        raise ScanSetupError(
            f"a Ray worker on {host} cannot read {os.fsdecode(path)} ({problem}): the workers must see the files "
            "at the same paths as this machine (a shared filesystem mounted at the same place on every node)"
        )


def _first_readable(paths: list[bytes]) -> bytes | None:
    """The first file this machine can read (an unreadable one is an error row, not a cluster problem)."""
    return next((p for p in paths if os.path.isfile(p) and os.access(p, os.R_OK)), None)


def _actor_count(ray, cluster: RayOptions) -> int:
    if cluster.workers:
        return cluster.workers
    if cluster.gpus_per_worker > 0:
        gpus = ray.cluster_resources().get("GPU", 0)
        if gpus < cluster.gpus_per_worker:
            raise ScanSetupError(f"--ray-gpus-per-worker {cluster.gpus_per_worker}: the cluster has {gpus:g} GPU(s)")
        return max(1, int(gpus // cluster.gpus_per_worker))
    return max(1, sum(1 for node in ray.nodes() if node.get("Alive")))


def _dataset(ray, paths: list[bytes], per_task: int, recipe, model: tuple | None, batch_size: int, cluster, actors: int,
             pause: str):
    """The Ray Data pipeline for ``paths``: blocks of ``per_task`` files -> examine tasks -> model actors."""
    import pyarrow as pa

    blocks = [pa.table({"path": pa.array(paths[i:i + per_task], pa.binary())}) for i in range(0, len(paths), per_task)]
    with warnings.catch_warnings():  # the only way to bound task retries in Ray 2.60 (see pyproject's [cluster])
        warnings.filterwarnings("ignore", message=".*ray_remote_args_fn. is deprecated")
        ds = ray.data.from_arrow(blocks).map_batches(
            _examine_block, batch_format="pyarrow", batch_size=None, fn_kwargs={"recipe": recipe, "pause": pause},
            num_cpus=cluster.decode_cpus, ray_remote_args_fn=_task_retries,
        )
    if model is None:
        return ds.map_batches(_checks_only, batch_format="pyarrow", batch_size=None, num_cpus=cluster.decode_cpus)
    model_dir, runtime, threads = model
    return ds.map_batches(
        _InferActor, fn_constructor_kwargs={"model_dir": model_dir, "runtime": runtime, "threads": threads, "pause": pause,
                               "batch_size": batch_size},
        batch_format="pyarrow", batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cluster.cpus_per_worker, num_gpus=cluster.gpus_per_worker or None,
    )


def _task_retries() -> dict:
    """Decode tasks retry a dead worker a few times, not forever (Ray Data's default): a file that kills its
    worker every time must end as an error row, not hang the scan."""
    return {"max_retries": TASK_RETRIES}


class _Driver:
    """Step 4 on the driver: each path's row written once, however often the cluster sends it."""

    def __init__(self, rows: RowWriter, clock: StageClock, cancel: threading.Event):
        self.rows = rows
        self.clock = clock
        self.cancel = cancel
        self.written: set[bytes] = set()

    def drain(self, ds) -> bool:
        """Write every row ``ds`` yields; False when cancelled."""
        batches = iter(ds.iter_batches(batch_format="pyarrow", batch_size=None, prefetch_batches=2))
        try:
            return self._write_all(batches)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()  # stops the cluster's work on this dataset at once (a cancelled scan)

    def _write_all(self, batches) -> bool:
        for batch in batches:
            for path, row, decode_s, infer_s in zip(*(batch.column(c).to_pylist() for c in ("path", "row", "decode_s", "infer_s"))):
                if self.cancel.is_set():
                    return False
                if path in self.written:
                    continue  # sent again by a retried batch: already in the results
                self.clock.add("decode", decode_s)
                self.clock.add("inference", infer_s)
                with self.clock.timing("writing"):
                    self.rows.write(pickle.loads(row))
                self.written.add(path)
        return not self.cancel.is_set()


def run_ray_scan(
    roots: list[str | os.PathLike],
    on_result: Callable[[ScanResult], None],
    *,
    classifier=None,
    options: ScanOptions | None = None,
    cancel: threading.Event | None = None,
    on_progress: Callable[[ScanProgress], None] | None = None,
    cluster: RayOptions | None = None,
    model_dir: str | os.PathLike | None = None,
    runtime: str | None = None,
) -> ScanSummary:
    """The same scan as :func:`cxviewer.scan.run_scan` (same rows, same order of concerns), run on Ray.

    ``classifier`` (loaded on the driver) names the model; each actor loads it again from its card's folder
    (``model_dir``, default that folder), which every node must see. Raises ``ScanSetupError`` when Ray is
    missing, the cluster cannot be reached, or a worker cannot read the first file.
    """
    options = options or ScanOptions()
    cluster = cluster or RayOptions()
    cancel = cancel or threading.Event()
    clock = StageClock()
    progress = ScanProgress()
    inference = BatchInference(classifier, 1) if classifier is not None else None  # refuses unwritable labels
    roots_abs = normalise_roots(roots)
    discovery = Discovery(roots_abs, recursive=options.recursive)
    stop_count = threading.Event()
    count_in_background(roots_abs, options.recursive, progress, stop_count)
    rows = RowWriter(on_result, progress, on_progress, discovery)
    skip = options.skip if isinstance(options.skip, (set, frozenset)) else set(options.skip)
    with clock.timing("discovery"):
        paths = [os.fsencode(p) for p in new_paths(discovery, skip, options.max_files, progress)]
    rows.report()
    with clock.timing("cluster start"):
        ray, started_here, temp_dir = connect(cluster.address)
    driver = _Driver(rows, clock, cancel)
    cancelled = False
    try:
        import logging

        from ray.data import DataContext

        logging.getLogger("ray.data").setLevel(logging.WARNING)  # the terminal shows the scan's own progress line
        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.max_errored_blocks = -1  # a block lost after its retries is scanned again below, file by file
        ctx.execution_options.verbose_progress = False
        actors = _actor_count(ray, cluster)
        first = _first_readable(paths)
        if first is not None:
            with clock.timing("first-file check"):
                check_worker_reads(ray, first)
        model = None
        if classifier is not None:
            model = (str(Path(model_dir).resolve()) if model_dir else str(classifier.card.directory),
                     runtime, max(1, int(options.workers)))
        per_task = max(1, int(cluster.files_per_task))
        batch_size = max(1, int(options.batch_size))
        todo = paths
        pause = f"cxviewer-scan-{os.getpid()}-{time.time_ns()}.inferring"  # this scan's flag on each node
        for attempt in range(2):  # the second pass: files whose block was lost, one file per task
            if not todo:
                break
            ds = _dataset(ray, todo, per_task if attempt == 0 else 1, inference.recipe if inference else None,
                          model, batch_size, cluster, actors, pause)
            if not driver.drain(ds):
                cancelled = True
                break
            todo = [p for p in todo if p not in driver.written]
        if not cancelled:
            for p in todo:  # lost twice: an error row, as a decoder crash gives locally
                rows.write(ScanResult(path=os.fsdecode(p), status="error", error=LOST_REASON))
                driver.written.add(p)
    finally:
        stop_count.set()
        if inference is not None:
            inference.close()
        if started_here:
            ray.shutdown()
            remove_temp_dir(temp_dir)
    rows.report()
    return ScanSummary.of_run(progress, discovery, inference, clock, cancelled or cancel.is_set(),
                              engine=f"ray, {cluster.address}")
