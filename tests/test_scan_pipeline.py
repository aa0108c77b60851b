"""The scan on a real mixed folder: every file accounted for, inputs untouched, resume, cancel, CLI contract.

These run the real readers on real files. Without a model the scan checks files without
classifying them (``--no-model``); the tests that need the classifier skip until one is installed.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from scan_corpus import CXR, build_corpus, needs_shared, tree_digest

from cxviewer.cli import main
from cxviewer.scan import COLUMNS, ScanOptions, run_scan
from cxviewer.scan.resume import open_results

REPO = Path(__file__).resolve().parents[1]
PROB = ("p_covid", "p_pneumonia", "p_normal")

pytestmark = needs_shared


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    expected = build_corpus(root)
    return root, {str(root / rel): status for rel, status in expected.items()}


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == COLUMNS
        return list(reader)


def _without_time(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "ms"} for r in rows]


def test_every_file_accounted_for_and_inputs_untouched(corpus, tmp_path, capsys):
    root, expected = corpus
    before = tree_digest(root)
    out, js = tmp_path / "results.csv", tmp_path / "results.jsonl"

    code = main(["scan", str(root), "-o", str(out), "--jsonl", str(js), "--no-model", "--workers", "2"])

    assert code == 0
    assert tree_digest(root) == before  # byte-identical, nothing added beside the images
    rows = _rows(out)
    got = {r["path"]: r for r in rows}
    assert len(got) == len(rows)  # no file reported twice, despite the symlink loop
    assert {p: r["status"] for p, r in got.items()} == expected
    for r in rows:
        assert r["ms"] != ""
        if r["status"] != "ok":
            assert r["error"].strip(), f"{r['path']} has no message"
            assert all(r[c] == "" for c in PROB) and r["label"] == ""
        else:
            assert r["error"] == ""
    # broken files say why, in words a reader understands
    why = {Path(p).name: r["error"].lower() for p, r in got.items() if r["status"] == "out_of_scope"}
    assert "hip" in why["RG2_RLE.dcm"]
    assert "extremity" in why["RG3_J2KI.dcm"]
    assert "teeth" in why["CR-ModalitySequenceLUT.dcm"]
    assert "ct slice" in why["ct_slice.dcm"]
    assert "colour" in why["colour_photo.png"]
    assert "too small" in why["icon_32.png"]
    assert "no image" in why["SR000001"] and "sr" in why["SR000001"]
    assert "aspect" in why["banner.png"]
    # DICOM identifiers are carried over
    uncr = got[str(root / "dicom/RG1_UNCR.dcm")]
    assert uncr["study_uid"] and uncr["sop_uid"]
    # JSON Lines: the same rows, same fields, same order
    lines = [json.loads(line) for line in js.read_text(encoding="utf-8").splitlines()]
    assert [d["path"] for d in lines] == [r["path"] for r in rows]
    assert all(list(d) == list(COLUMNS) for d in lines)
    assert [d["status"] for d in lines] == [r["status"] for r in rows]
    stdout = capsys.readouterr().out
    n_ok = sum(s == "ok" for s in expected.values())
    assert f"{len(expected)} file(s) scanned" in stdout and f"{n_ok} ok" in stdout
    assert "1 other file(s) ignored" in stdout  # README.txt is not silently dropped from the summary


def test_order_is_deterministic(corpus, tmp_path):
    root, _ = corpus
    orders = []
    for workers in (1, 3):
        seen = []
        run_scan([root], lambda r: seen.append(r.path), options=ScanOptions(workers=workers))
        orders.append(seen)
    assert orders[0] == orders[1]


def _scan_to(out: Path, roots, **options) -> None:
    sink = open_results(out, resume=options.pop("resume", False))
    options["skip"] = sink.done
    try:
        run_scan(roots, sink.write, options=ScanOptions(**options))
    finally:
        sink.close()


def test_resume_after_interruption_gives_the_same_table(corpus, tmp_path):
    root, expected = corpus
    full, part = tmp_path / "full.csv", tmp_path / "part.csv"
    _scan_to(full, [root])
    _scan_to(part, [root], max_files=7)  # the scan stops after 7 rows, as if it had been killed
    first = part.read_bytes()
    assert len(_rows(part)) == 7
    _scan_to(part, [root], resume=True)
    assert part.read_bytes().startswith(first)  # rows already written were not rewritten
    assert _without_time(_rows(part)) == _without_time(_rows(full))
    assert len(_rows(part)) == len(expected)
    # a third run has nothing left to do and adds nothing
    _scan_to(part, [root], resume=True)
    assert len(_rows(part)) == len(expected)


def test_cancel_stops_promptly(tmp_path):
    """Cancelling from the result callback: not one more row, queued files are dropped."""
    cancel = threading.Event()
    rows = []

    def on_result(r):
        rows.append(r)
        if len(rows) == 5:
            cancel.set()

    summary = run_scan([CXR / "normal"], on_result, options=ScanOptions(workers=2), cancel=cancel)
    assert summary.cancelled
    assert len(rows) == 5
    assert summary.scanned == 5


def test_cancel_from_another_thread(tmp_path):
    """The GUI's case: the scan runs on a worker, the cancel comes from elsewhere; the call returns."""
    cancel = threading.Event()
    first = threading.Event()
    rows = []

    def on_result(r):
        rows.append(r)
        first.set()

    result = {}
    t = threading.Thread(
        target=lambda: result.setdefault("s", run_scan([CXR], on_result, options=ScanOptions(), cancel=cancel))
    )
    t.start()
    assert first.wait(60)
    cancel.set()
    t.join(60)
    assert not t.is_alive()
    summary = result["s"]
    assert summary.cancelled
    assert len(rows) == summary.scanned < 1842
    assert len(rows) <= summary.scanned  # every emitted row counted once


def test_killed_cli_scan_resumes_to_the_same_table(tmp_path):
    """A real interruption: SIGKILL the scan process mid-run, then --resume."""
    source = CXR / "pneumonia"
    env = dict(os.environ, CXVIEWER_HOME=str(tmp_path / "home"))
    cmd = [sys.executable, "-m", "cxviewer", "scan", str(source), "--no-model", "--workers", "1"]
    ref = tmp_path / "ref.csv"
    first = subprocess.run([*cmd, "-o", str(ref)], check=True, cwd=REPO, env=env, capture_output=True, text=True)
    assert "files/s" not in first.stderr  # stderr is a pipe here: no progress line
    assert "file(s) scanned" in first.stdout
    out = tmp_path / "killed.csv"
    proc = subprocess.Popen([*cmd, "-o", str(out)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and out.read_bytes().count(b"\n") >= 30:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len(_rows(out))
    assert 29 <= n_before < len(_rows(ref)), "the scan was not interrupted mid-way"
    done = subprocess.run([*cmd, "-o", str(out), "--resume"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "already in the results (resumed)" in done.stdout
    assert _without_time(_rows(out)) == _without_time(_rows(ref))


def test_cli_refuses_output_inside_the_scanned_tree(corpus, capsys):
    root, _ = corpus
    before = tree_digest(root)
    for target in (root / "results.csv", root / "films" / "r.csv"):
        assert main(["scan", str(root), "-o", str(target), "--no-model"]) == 2
        assert "never writes into or beside" in capsys.readouterr().err
    assert main(["scan", str(root), "-o", "/tmp/x.csv", "--jsonl", str(root / "r.jsonl"), "--no-model"]) == 2
    assert tree_digest(root) == before


def test_cli_bad_arguments_and_nothing_to_scan(tmp_path, capsys):
    assert main(["scan", str(tmp_path / "missing"), "-o", str(tmp_path / "r.csv"), "--no-model"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    out_dir = tmp_path / "out"
    assert main(["scan", str(empty), "-o", str(out_dir / "r.csv"), "--no-model"]) == 1
    assert "nothing could be scanned" in capsys.readouterr().err
    # an existing results file is neither overwritten nor appended to without being asked
    (out_dir / "r.csv").write_text("precious\n")
    assert main(["scan", str(empty), "-o", str(out_dir / "r.csv"), "--no-model"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert (out_dir / "r.csv").read_text() == "precious\n"
    with pytest.raises(SystemExit):
        main(["scan", str(empty), "-o", str(out_dir / "x.csv"), "--workers", "0"])


def test_cli_folder_of_only_broken_files(tmp_path, capsys):
    """Every file is reported with its message, and the exit status says nothing could be scanned."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.dcm").write_bytes(b"")
    (src / "b.png").write_text("not a PNG")
    out = tmp_path / "r.csv"
    assert main(["scan", str(src), "-o", str(out), "--no-model"]) == 1
    rows = _rows(out)
    assert [(Path(r["path"]).name, r["status"]) for r in rows] == [("a.dcm", "error"), ("b.png", "error")]
    assert all(r["error"] for r in rows)
    assert "every file failed" in capsys.readouterr().err


def test_without_a_model_the_cli_says_how_to_proceed(tmp_path, capsys, monkeypatch):
    from cxviewer.model import available_models

    monkeypatch.setenv("CXVIEWER_HOME", str(tmp_path / "home"))
    if available_models():
        pytest.skip("a model is installed: this checks the message shown when none is")
    (tmp_path / "in").mkdir()
    assert main(["scan", str(tmp_path / "in"), "-o", str(tmp_path / "r.csv")]) == 1
    assert "--no-model" in capsys.readouterr().err


# --- with the classifier ---------------------------------------------------------------------


def _model_or_skip():
    from cxviewer.model import available_models

    if not available_models():
        pytest.skip("no classifier is installed yet (models/ is empty); the lead re-runs these with the model")


@pytest.fixture(scope="module")
def classifier():
    _model_or_skip()
    from cxviewer.model import load_classifier

    return load_classifier()


def test_model_scan_classifies_only_in_scope_files(corpus, classifier, tmp_path):
    root, expected = corpus
    before = tree_digest(root)
    rows = []
    summary = run_scan([root], rows.append, classifier=classifier, options=ScanOptions(batch_size=4))
    assert tree_digest(root) == before
    assert {r.path: r.status for r in rows} == expected
    tag = f"{classifier.card.name}@{classifier.card.version}"
    assert summary.model == tag
    for r in rows:
        if r.status == "ok":
            probs = [r.p_covid, r.p_pneumonia, r.p_normal]
            assert all(p is not None and 0.0 <= p <= 1.0 for p in probs)
            assert sum(probs) == pytest.approx(1.0, abs=1e-4)
            assert r.label == max(zip(probs, ("covid", "pneumonia", "normal")))[1]
            assert r.model == tag
            gate = classifier.card.data.get("ood")
            if gate:  # the model's out-of-distribution score is filled and passed
                assert r.ood_score is not None and r.ood_score <= gate["threshold"]
        else:
            assert r.label == "" and r.p_covid is None and r.model == ""


def test_model_scan_matches_single_image_prediction(corpus, classifier):
    """Batched scan probabilities equal the viewer's one-image prediction for the same file."""
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image

    root, _ = corpus
    target = root / "dicom" / "RG1_UNCR.dcm"
    rows = []
    run_scan([root / "dicom"], rows.append, classifier=classifier, options=ScanOptions(batch_size=3))
    row = next(r for r in rows if r.path == str(target))
    single = classifier.predict(model_image(read_radiograph(target)), gradcam=False)
    assert (row.p_covid, row.p_pneumonia, row.p_normal) == pytest.approx(
        tuple(single.probability(label) for label in ("covid", "pneumonia", "normal")), abs=1e-4
    )


def test_model_scan_resume_gives_the_same_table(corpus, classifier, tmp_path):
    root, _ = corpus
    tag = f"{classifier.card.name}@{classifier.card.version}"

    def scan(out, **opts):
        sink = open_results(out, resume=opts.pop("resume", False), model_tag=tag)
        try:
            run_scan([root], sink.write, classifier=classifier, options=ScanOptions(skip=sink.done, batch_size=4, **opts))
        finally:
            sink.close()

    full, part = tmp_path / "full.csv", tmp_path / "part.csv"
    scan(full)
    scan(part, max_files=9)
    scan(part, resume=True)

    def table(p):
        return {r["path"]: {k: v for k, v in r.items() if k != "ms"} for r in _rows(p)}

    a, b = table(full), table(part)
    assert a.keys() == b.keys()
    numeric = (*PROB, "ood_score")  # batch composition moves the last float digits
    for path in a:
        for col in numeric:
            if a[path][col]:
                assert float(a[path][col]) == pytest.approx(float(b[path][col]), abs=1e-4)
        assert {k: v for k, v in a[path].items() if k not in numeric} == {
            k: v for k, v in b[path].items() if k not in numeric
        }


def test_the_local_scan_and_the_app_never_import_ray(tmp_path):
    """Ray is the [cluster] extra, loaded only by ``--ray``: a local scan (and the CLI that runs it) stays without it."""
    films = tmp_path / "films"
    films.mkdir()
    src = sorted(CXR.glob("normal/*.jpg"))[0]
    (films / src.name).write_bytes(src.read_bytes())
    probe = (
        "import sys\n"
        "from cxviewer.cli import main\n"
        "import cxviewer.ui.app, cxviewer.scan.pipeline\n"
        f"code = main(['scan', {str(films)!r}, '-o', {str(tmp_path / 'r.csv')!r}, '--no-model'])\n"
        "assert code == 0, code\n"
        "loaded = sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.'))\n"
        "assert not loaded, loaded\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    script = tmp_path / "probe.py"  # a file, not -c: the decoder pool's spawned workers re-import the main module
    script.write_text(probe)
    done = subprocess.run([sys.executable, str(script)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
