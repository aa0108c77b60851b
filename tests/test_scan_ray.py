"""``cxviewer scan --ray`` on a real local Ray cluster (2 CPUs) with the real model and real films.

One Ray instance for the module. The rows must be the local scan's (same files, statuses, calls; probabilities
within 1e-4); an actor killed mid-run must not lose or repeat a row; an interrupted Ray scan resumes.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import threading
import time

import pytest
from scan_corpus import CXR, DICOM, needs_shared

ray = pytest.importorskip("ray", reason="the [cluster] extra (Ray with Ray Data) is not installed")
pytest.importorskip("ray.data")

from cxviewer.cli import main
from cxviewer.model import available_models, load_classifier
from cxviewer.scan import COLUMNS, ScanOptions, run_scan
from cxviewer.scan.ray_scan import RayOptions, connect, remove_temp_dir, run_ray_scan
from cxviewer.scan.resume import open_results

pytestmark = [
    needs_shared,
    pytest.mark.skipif(not available_models(), reason="no classification model installed"),
]
PROB = ("p_covid", "p_pneumonia", "p_normal", "confidence", "ood_score")
FILMS_PER_CLASS = 12
# a chest film, a hip film (out of scope), the JPEG Extended file every decoder rejects (an error row)
DICOM_FILES = ("RG1_UNCR.dcm", "CR-MONO1-10-chest.dcm", "RG2_RLE.dcm", "RG2_JPLY.dcm")


SESSION: dict = {}  # the private temp folder of the module's cluster


@pytest.fixture(scope="module")
def cluster():
    """One local Ray instance for the whole module (starting Ray costs seconds), started as ``scan --ray local``
    starts one: its session in a private temp folder, removed after the shutdown."""
    if ray.is_initialized():
        ray.shutdown()
    _ray, started_here, temp_dir = connect("local")
    assert started_here and temp_dir
    SESSION["temp_dir"] = temp_dir
    yield ray
    ray.shutdown()
    remove_temp_dir(temp_dir)
    assert not os.path.exists(temp_dir)


def test_a_cluster_started_here_keeps_its_session_where_only_the_user_can_read(cluster):
    """Spilled objects are decoded films, and the logs name files: Ray's session folder (which Ray makes 0777) lies in
    a folder of the user's own (0700), not in the shared /tmp/ray."""
    import stat

    temp_dir = SESSION["temp_dir"]
    assert stat.S_IMODE(os.stat(temp_dir).st_mode) == 0o700 and os.stat(temp_dir).st_uid == os.getuid()
    assert any(name.startswith("session_") for name in os.listdir(os.path.join(temp_dir, "r")))


@pytest.fixture(scope="module")
def films(tmp_path_factory):
    """About 40 real films in a folder like an export: 36 JPEG chest films and 4 DICOM files."""
    root = tmp_path_factory.mktemp("archive")
    for label in ("covid", "normal", "pneumonia"):
        (root / label).mkdir()
        for src in sorted((CXR / label).glob("*.jpg"))[:FILMS_PER_CLASS]:
            shutil.copy(src, root / label / src.name)
    (root / "dicom").mkdir()
    for name in DICOM_FILES:
        shutil.copy(DICOM / name, root / "dicom" / name)
    return root


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


@pytest.fixture(scope="module")
def local_rows(films, classifier):
    rows = []
    run_scan([films], rows.append, classifier=classifier, options=ScanOptions(workers=2))
    return {r.path: r for r in rows}


def _assert_same_rows(got: list, local: dict) -> None:
    paths = [r.path for r in got]
    assert len(paths) == len(set(paths)), "a file was written twice"
    assert set(paths) == set(local), f"missing {set(local) - set(paths)}, extra {set(paths) - set(local)}"
    for r in got:
        want = local[r.path]
        assert (r.status, r.label, r.call, r.error, r.model, r.runtime, r.device) == (
            want.status, want.label, want.call, want.error, want.model, want.runtime, want.device,
        ), r.path
        for column in PROB:
            a, b = getattr(r, column), getattr(want, column)
            assert (a is None) == (b is None), (r.path, column)
            if a is not None:
                assert abs(float(a) - float(b)) <= 1e-4, (r.path, column, a, b)


def test_ray_rows_are_the_local_rows(cluster, films, classifier, local_rows):
    statuses = {r.status for r in local_rows.values()}
    assert statuses == {"ok", "error", "out_of_scope"}  # the corpus exercises every kind of row
    got = []

    summary = run_ray_scan([films], got.append, classifier=classifier, options=ScanOptions(workers=2),
                           cluster=RayOptions(workers=1))

    _assert_same_rows(got, local_rows)
    assert summary.scanned == len(local_rows) and not summary.cancelled
    jply = next(r for r in got if r.path.endswith("RG2_JPLY.dcm"))
    assert jply.status == "error" and "could not be decoded" in jply.error
    for stage in ("discovery", "decode", "inference", "writing"):
        assert stage in summary.stage_s
    assert summary.stage_s["inference"] > 0 and "ray" in summary.stages_text()


def test_a_dropped_model_actor_stops_its_prepare_threads(classifier):
    """Ray Data drops an actor's UDF when it shuts the actor down; the actor's model then stops the thread pool
    that prepares the cropped films (it leaked one pool per actor)."""
    import gc

    from cxviewer.scan.ray_scan import _InferActor

    actor = _InferActor(str(classifier.card.directory), None, 2, f"cxviewer-test-{os.getpid()}.inferring", 2)
    pool = actor.inference._prep_pool  # made by the warm-up's forward passes when the model crops the lungs
    if pool is None:
        pytest.skip("this model does not crop the lungs: no prepare threads")
    threads = set(pool._threads)
    assert threads and all(t.is_alive() for t in threads)
    del actor
    gc.collect()
    assert pool._shutdown
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)


def _alive_model_actor_pids() -> list[int]:
    return [
        a["Pid"] for a in ray._private.state.actors().values()
        if "_InferActor" in a.get("ActorClassName", "") and a.get("State") == "ALIVE" and a.get("Pid")
    ]


def test_a_killed_actor_loses_and_repeats_no_row(cluster, films, classifier, local_rows):
    """SIGKILL one of the two model actors after the first rows: Ray restarts it and retries its batch."""
    got, killed = [], []

    def write(row):
        got.append(row)
        if len(got) == 6 and not killed:
            pids = _alive_model_actor_pids()
            assert pids, "no model actor found to kill"
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    options = ScanOptions(workers=2, batch_size=4)  # small batches: several still in flight at the kill
    run_ray_scan([films], write, classifier=classifier, options=options,
                 cluster=RayOptions(workers=2, cpus_per_worker=0.5, files_per_task=4))

    assert killed, "the actor was not killed mid-run"
    assert len(got) > 6  # rows kept coming after the kill
    deadline = time.monotonic() + 10
    while killed[0] in _alive_model_actor_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert killed[0] not in _alive_model_actor_pids()
    _assert_same_rows(got, local_rows)


def _csv_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == COLUMNS
        return list(reader)


def test_resume_after_an_interrupted_ray_scan(cluster, films, classifier, local_rows, tmp_path, capsys):
    out, js = tmp_path / "results.csv", tmp_path / "results.jsonl"
    tag = f"{classifier.card.name}@{classifier.card.version}"
    sink = open_results(out, js, model_tag=tag)
    cancel = threading.Event()

    def write(row):  # the scan is stopped mid-run, as Ctrl-C does: rows in flight are dropped
        sink.write(row)
        if len(_csv_rows(out)) >= 15:
            cancel.set()

    first = run_ray_scan([films], write, classifier=classifier, options=ScanOptions(workers=2, batch_size=4),
                         cancel=cancel, cluster=RayOptions(workers=1, files_per_task=4))
    sink.close()
    assert first.cancelled and 15 <= len(_csv_rows(out)) < len(local_rows)

    code = main(["scan", str(films), "-o", str(out), "--jsonl", str(js), "--resume", "--ray"])

    assert code == 0
    captured = capsys.readouterr()
    assert "already in the results (resumed)" in captured.out
    assert "stages (ray" in captured.err
    rows = _csv_rows(out)
    from cxviewer.scan.results import ScanResult

    _assert_same_rows([ScanResult.from_row(r) for r in rows], local_rows)
    with open(js, encoding="utf-8") as fh:
        assert sum(1 for line in fh if line.strip()) == len(local_rows)  # the JSON Lines file too, once each


def test_a_worker_that_cannot_read_the_files_is_explained(cluster, tmp_path):
    """The first-file check runs on a worker: a path it cannot open stops the scan with the shared-filesystem advice."""
    from cxviewer.scan.guards import ScanSetupError
    from cxviewer.scan.ray_scan import check_worker_reads

    film = tmp_path / "film.jpg"
    shutil.copy(sorted((CXR / "normal").glob("*.jpg"))[0], film)
    check_worker_reads(ray, os.fsencode(str(film)))  # the worker sees it: no complaint
    missing = tmp_path / "not-mounted-on-the-workers" / "film.jpg"
    with pytest.raises(ScanSetupError, match="cannot read .*not-mounted-on-the-workers.*shared filesystem"):
        check_worker_reads(ray, os.fsencode(str(missing)))
