"""Drafts: autosaved per study under the user data folder, atomic, restored after a crash; Finals kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cxviewer import paths
from cxviewer.imaging import read_radiograph
from cxviewer.report import DraftStore, FinalReportExists, Report
from report_samples import JAPANESE, SMALL_CHEST, dicom_copy

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def rad(tmp_path):
    return read_radiograph(dicom_copy(tmp_path, **JAPANESE))


def test_store_lives_in_user_data_dir_with_hashed_names(rad, cxviewer_home):
    store = DraftStore()
    report = Report.for_radiograph(rad)
    path = store.save(report)
    assert path.parent == paths.user_data_dir() / "reports"
    assert str(path).startswith(str(cxviewer_home))
    if os.name == "posix":
        assert path.stat().st_mode & 0o077 == 0  # health data: readable by its owner only
    # nothing from the header in the file name
    assert "Yamada" not in path.name and "JP-000123" not in path.name and rad.study_uid not in path.name
    assert json.loads(path.read_text(encoding="utf-8"))["header"]["patient_name"] == JAPANESE["PatientName"]


def test_round_trip_keeps_every_field(rad):
    store = DraftStore()
    report = Report.for_radiograph(rad)
    report.sections["findings"] = "Opacity\nright lower zone. 山田太郎"
    report.reader_name = "Dr. Ørsted"
    store.save(report)
    back = DraftStore().load(report.study_key)
    assert back.to_dict() == report.to_dict()


CHILD = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {repo!r}); sys.path.insert(0, {tests!r})
    from cxviewer.imaging import read_radiograph
    from cxviewer.report import DraftStore, Report
    import cxviewer.files.atomic as atomic
    rad = read_radiograph({dicom!r})
    store = DraftStore()
    report = Report.for_radiograph(rad)
    report.sections["findings"] = "first complete save"
    store.save(report)
    # the next autosave dies between writing its temp file and renaming it (power cut, kill -9)
    def crash(src, dst):
        with open(src, "r+b") as fh:       # and the temp file is only half written
            fh.truncate(os.path.getsize(src) // 2)
        os._exit(137)
    atomic.os.replace = crash
    report.sections["findings"] = "second save, never completed"
    store.save(report)
    os._exit(0)  # not reached
""")


def test_draft_survives_a_crash_mid_save(tmp_path, cxviewer_home):
    dicom = dicom_copy(tmp_path, **JAPANESE)
    script = CHILD.format(repo=str(REPO), tests=str(REPO / "tests"), dicom=str(dicom))
    env = dict(os.environ, CXVIEWER_HOME=str(cxviewer_home))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 137, proc.stderr
    folder = cxviewer_home / "data" / "reports"
    leftovers = list(folder.glob(".*.tmp"))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0  # the half-written temp file

    # a new process (this one) opens the same study: the last complete draft comes back
    rad = read_radiograph(dicom)
    store = DraftStore()
    restored = store.load(Report.for_radiograph(rad).study_key)
    assert restored is not None
    assert restored.sections["findings"] == "first complete save"
    assert restored.header.patient_id == "JP-000123"
    # stale temp files are cleaned up, the draft itself is untouched
    os.utime(leftovers[0], (time.time() - 7200, time.time() - 7200))
    assert store.clean_stale_temp_files() == 1
    assert store.load(restored.study_key).sections["findings"] == "first complete save"


def test_a_corrupt_draft_is_kept_aside_not_deleted(rad):
    store = DraftStore()
    report = Report.for_radiograph(rad)
    path = store.save(report)
    path.write_text('{"schema": "cxviewer.report/1", "sections": {', encoding="utf-8")
    assert store.load(report.study_key) is None
    kept = list(path.parent.glob("*.corrupt-*.json"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8").startswith('{"schema"')
    store.save(report)  # a new draft can be written again
    assert store.load(report.study_key) is not None


def test_final_report_is_never_silently_overwritten(rad):
    store = DraftStore()
    report = Report.for_radiograph(rad)
    report.sections["impression"] = "No acute disease."
    with pytest.raises(ValueError, match="reader name"):
        report.finalize()
    report.reader_name = "Dr. A"
    report.finalize()
    path = store.save(report)
    signed = path.read_bytes()
    store.save(report)  # saving the same Final again is harmless
    # an autosave of a stale draft of the same study (another window, an old instance) is refused
    stale = Report.for_radiograph(rad)
    stale.sections["impression"] = "changed after signing"
    with pytest.raises(FinalReportExists) as info:
        store.save(stale)
    assert info.value.existing.sections["impression"] == "No acute disease."
    assert path.read_bytes() == signed
    # a Final cannot be edited in memory either
    with pytest.raises(PermissionError):
        report.set_section("impression", "x")
    # amending is explicit, and the signed version is archived
    amended = report.reopen_as_draft()
    amended.sections["impression"] = "Addendum: small left effusion."
    store.save(amended, replace_final=True)
    archived = store.archived_finals(report.study_key)
    assert len(archived) == 1
    assert json.loads(archived[0].read_text(encoding="utf-8"))["sections"]["impression"] == "No acute disease."
    assert store.load(report.study_key).status == "Draft"
    assert store.discard(report.study_key) is True  # a draft can be discarded; the archive stays
    assert archived[0].exists()


def test_plain_image_study_key_is_per_file(tmp_path):
    import cv2
    import numpy as np

    a, b = tmp_path / "a.png", tmp_path / "b.png"
    img = (np.arange(64 * 64) % 251).astype(np.uint8).reshape(64, 64)
    cv2.imwrite(str(a), img)
    cv2.imwrite(str(b), img)
    ka = Report.for_radiograph(read_radiograph(a)).study_key
    kb = Report.for_radiograph(read_radiograph(b)).study_key
    assert ka != kb and ka.startswith("file:")
    same_study = Report.for_radiograph(read_radiograph(SMALL_CHEST)).study_key
    assert same_study.startswith("study:")
