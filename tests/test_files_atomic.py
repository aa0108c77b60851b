"""The one atomic writer (cxviewer.files.atomic): unique temp names, permissions, nothing left on failure."""

from __future__ import annotations

import os
import stat
import sys
import threading
from pathlib import Path

import pytest

from cxviewer.files import atomic
from cxviewer.files.atomic import AtomicFile, atomic_write_bytes, atomic_write_text, atomic_write_with

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_and_replaces_leaving_only_the_target(tmp_path):
    target = tmp_path / "sub" / "report.json"
    assert atomic_write_text(target, "first") == target
    atomic_write_text(target, "second ✓")
    assert target.read_text(encoding="utf-8") == "second ✓"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_concurrent_writers_use_unique_temp_names_and_one_whole_file_wins(tmp_path, monkeypatch):
    """16 threads write the same target at once: each gets its own temp file, none is torn."""
    target = tmp_path / "settings.json"
    temps: list[Path] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)
    real_replace = os.replace

    def replace_after_all_wrote(src, dst):
        with lock:
            temps.append(Path(src))
        barrier.wait(timeout=30)  # every writer holds its temp file at the same moment
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace_after_all_wrote)
    payloads = [bytes([65 + i]) * (50_000 + i) for i in range(16)]
    errors: list[BaseException] = []

    def write(data: bytes) -> None:
        try:
            atomic_write_bytes(target, data)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(temps) == 16 and len(set(temps)) == 16
    assert all(t.parent == tmp_path and t.name.startswith(".settings.json.") and t.name.endswith(".tmp") for t in temps)
    assert target.read_bytes() in payloads
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


@posix_only
def test_private_files_are_owner_only_even_over_a_public_one(tmp_path):
    target = tmp_path / "draft.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    atomic_write_text(target, "patient data")  # private is the default
    assert _mode(target) == 0o600


@posix_only
def test_public_files_keep_the_mode_of_the_file_they_replace(tmp_path):
    target = tmp_path / "card.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic_write_text(target, "new", private=False)
    assert _mode(target) == 0o640
    os.chmod(target, 0o444)  # read-only: the temp file is still writable while it is written
    atomic_write_text(target, "newer", private=False)
    assert target.read_text() == "newer" and _mode(target) == 0o444


@posix_only
def test_new_public_files_get_what_the_umask_gives(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "report.pdf", "x", private=False)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "report.pdf") == 0o640


def test_a_failing_writer_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "model.tflite"
    target.write_bytes(b"old")

    def half_then_fail(temp: Path) -> None:
        temp.write_bytes(b"ha")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write_with(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


def test_a_failing_rename_leaves_no_temp(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError("target locked")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(PermissionError):
        atomic_write_bytes(tmp_path / "x.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_atomic_file_commits_on_success_and_discards_on_error(tmp_path):
    with AtomicFile(tmp_path / "weights.weights.h5", private=False, suffix=".tmp.weights.h5") as temp:
        assert temp.name.endswith(".tmp.weights.h5") and temp.exists()  # writers that check the suffix (Keras)
        temp.write_bytes(b"w")
    assert (tmp_path / "weights.weights.h5").read_bytes() == b"w"
    with pytest.raises(ValueError):
        with AtomicFile(tmp_path / "out.pdf") as temp:
            temp.write_bytes(b"half")
            raise ValueError("layout failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.weights.h5"]
    done = AtomicFile(tmp_path / "once.txt")
    done.commit()
    with pytest.raises(RuntimeError):
        done.commit()


def test_every_writer_uses_the_one_helper():
    """No module makes its own temp file for a rename (the rule lives in cxviewer.files.atomic alone)."""
    package = Path(__file__).resolve().parent.parent / "cxviewer"
    own = {
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if p.name != "atomic.py" and any(s in p.read_text(encoding="utf-8") for s in ("mkstemp(", "os.replace(", '".tmp"'))
    }
    assert not own, own


def test_missing_folders_are_made_owner_only(tmp_path):
    target = tmp_path / "made" / "here" / "report.pdf"
    atomic_write_bytes(target, b"x")
    for folder in (target.parent, target.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@pytest.mark.skipif(sys.platform != "linux", reason="byte file names: Linux")
def test_a_writer_given_the_temp_name_as_text_writes_the_temp_file_even_for_a_name_that_is_not_utf8(tmp_path):
    """Qt's PDF writer takes the temp file's name as text: a target name that is not UTF-8 (``o\\xff.pdf``) must not give
    a temp name that text turns into another file (the report would be lost and a 0644 copy left behind)."""
    target = Path(os.fsdecode(bytes(tmp_path) + b"/o\xff.pdf"))
    with AtomicFile(target) as tmp:
        assert str(tmp).encode("utf-8", "strict")  # a name any text API keeps as it is
        Path(str(tmp).encode("utf-8").decode("utf-8")).write_bytes(b"%PDF")
    assert target.read_bytes() == b"%PDF" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
