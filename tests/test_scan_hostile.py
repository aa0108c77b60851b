"""The scan on hostile folders: odd names, special files, foreign "results" files, full disks.

Each case runs the real CLI; the ones that could hang run it in a subprocess with a timeout.
Asserted every time: the scan ends, every regular file has a row, and no input or foreign
file changes by a byte.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from cxviewer.cli import main
from cxviewer.scan.results import COLUMNS

REPO = Path(__file__).resolve().parents[1]
LATIN1_NAME = b"caf\xe9-film.dcm"  # a name written on a Latin-1 system: not valid UTF-8


def _digest(root: Path) -> dict[bytes, str]:
    out = {}
    for dirpath, _dirs, files in os.walk(os.fsencode(root)):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    out[path] = hashlib.sha256(fh.read()).hexdigest()
    return out


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == COLUMNS
        return list(reader)


def _cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "cxviewer", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, errors="backslashreplace", timeout=timeout)


@pytest.fixture
def folder(dicom_dir, tmp_path) -> Path:
    root = tmp_path / "export"
    root.mkdir()
    shutil.copy(dicom_dir / "CR-MONO1-10-chest.dcm", root / "plain.dcm")
    shutil.copy(dicom_dir / "CR_tiny_1.dcm", os.path.join(os.fsencode(root), LATIN1_NAME))
    return root


def test_non_utf8_names_are_written_exactly_and_resume(folder, tmp_path):
    before = _digest(folder)
    out, js = tmp_path / "r.csv", tmp_path / "r.jsonl"
    assert main(["scan", str(folder), "-o", str(out), "--jsonl", str(js), "--no-model", "--max-files", "1"]) == 0
    assert main(["scan", str(folder), "-o", str(out), "--jsonl", str(js), "--no-model", "--resume"]) == 0
    odd = os.fsdecode(os.path.join(os.fsencode(folder), LATIN1_NAME))
    rows = _rows(out)
    assert sorted(r["path"] for r in rows) == sorted([odd, str(folder / "plain.dcm")])  # once each
    assert LATIN1_NAME in out.read_bytes()  # the name's own bytes, not a replacement character
    with open(js, encoding="utf-8") as fh:  # JSON Lines stays valid UTF-8 (\udcXX escapes)
        assert sorted(json.loads(line)["path"] for line in fh) == sorted(r["path"] for r in rows)
    assert _digest(folder) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_special_files_get_error_rows_and_are_never_opened(folder, tmp_path):
    os.mkfifo(folder / "pipe.dcm")
    os.mkfifo(folder / "pipe-without-suffix")
    os.symlink(folder / "gone.dcm", folder / "dangling.dcm")
    (tmp_path / "elsewhere").mkdir()
    named_pipe = tmp_path / "elsewhere" / "named-pipe"
    os.mkfifo(named_pipe)
    before = _digest(folder)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "r.csv"
    done = _cli("scan", str(folder), str(named_pipe), "-o", str(out), "--no-model", timeout=240)
    assert done.returncode == 0, done.stderr
    rows = {r["path"]: r for r in _rows(out)}
    for special in (folder / "pipe.dcm", folder / "pipe-without-suffix", named_pipe):
        assert rows[str(special)]["status"] == "error"
        assert "named pipe" in rows[str(special)]["error"]
    assert "symbolic link to a file that does not exist" in rows[str(folder / "dangling.dcm")]["error"]
    assert str(folder / "plain.dcm") in rows
    assert _digest(folder) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_export_of_a_named_pipe_fails_at_once(tmp_path):
    os.mkfifo(tmp_path / "pipe.dcm")
    done = _cli("export", str(tmp_path / "pipe.dcm"), "-o", str(tmp_path / "out.png"), timeout=120)
    assert done.returncode == 1
    assert "named pipe" in done.stderr


def test_resume_never_touches_a_file_that_is_not_its_results(folder, dicom_dir, tmp_path, capsys):
    victim = tmp_path / "RG1_UNCR.dcm"  # a DICOM file given by mistake as the results file
    shutil.copy(dicom_dir / "RG1_UNCR.dcm", victim)
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(b'{"some": "other tool"}\n{"torn')
    before = {p: p.read_bytes() for p in (victim, notes)}
    assert main(["scan", str(folder), "-o", str(victim), "--resume", "--no-model"]) == 2
    assert "not a CXViewer scan results file" in capsys.readouterr().err
    assert main(["scan", str(folder), "-o", str(tmp_path / "r.csv"), "--jsonl", str(notes), "--resume", "--no-model"]) == 2
    assert {p: p.read_bytes() for p in before} == before


def test_cells_cannot_become_spreadsheet_formulas(dicom_dir, tmp_path):
    root = tmp_path / "export"
    root.mkdir()
    ds = pydicom.dcmread(dicom_dir / "CR-MONO1-10-chest.dcm", force=True)
    ds.PatientID = '=HYPERLINK("http://example.invalid","x")\x00\x1b[2J'
    ds.save_as(root / "formula.dcm")
    out, js = tmp_path / "r.csv", tmp_path / "r.jsonl"
    assert main(["scan", str(root), "-o", str(out), "--jsonl", str(js), "--no-model"]) == 0
    (row,) = _rows(out)
    assert row["patient_id"] == '\'=HYPERLINK("http://example.invalid","x") [2J'
    line = js.read_text(encoding="utf-8")
    assert json.loads(line)["patient_id"] == row["patient_id"]
    assert "\x00" not in out.read_text(encoding="utf-8") and "\\u0000" not in line


def test_unwritable_output_is_reported_before_the_model_loads(folder, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # --model names a folder that does not exist: had the model been loaded first, that would be the error.
    code = main(["scan", str(folder), "-o", str(blocker / "r.csv"), "--model", str(tmp_path / "no-model")])
    assert code == 2
    assert "cannot write" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_disk_full_gives_a_clear_message_and_a_resumable_state(folder, tmp_path, capsys):
    out = tmp_path / "r.csv"
    code = main(["scan", str(folder), "-o", str(out), "--jsonl", "/dev/full", "--no-model"])
    assert code == 1
    err = capsys.readouterr().err
    assert "disk is full" in err and "--resume" in err and "Traceback" not in err
    js = tmp_path / "r.jsonl"
    assert main(["scan", str(folder), "-o", str(out), "--jsonl", str(js), "--no-model", "--resume"]) == 0
    assert len(_rows(out)) == 2
    assert len(js.read_text(encoding="utf-8", errors="surrogateescape").splitlines()) == 2
