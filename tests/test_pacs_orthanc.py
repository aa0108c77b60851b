"""Every ``cxviewer pacs`` command and ``predict --sr`` against a real Orthanc (DIMSE and DICOMweb)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pydicom
import pytest

from cxviewer.cli import main
from cxviewer.pacs import Node
from cxviewer.pacs.dimse import DimseClient
from cxviewer.pacs.errors import Cancelled
from cxviewer.pacs.sr import read_sr
from cxviewer.pacs.storage import ObjectStore
from tests.conftest import REPO_ROOT
from tests.orthanc_server import LISTENER_AET, ORTHANC_AET

RG1_STUDY = "1.3.6.1.4.1.5962.1.2.9.20040826185059.5457"
RG1_J2KR_SOP = "1.3.6.1.4.1.5962.1.1.9.1.2.20040826185059.5457"


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_echo(orthanc, capsys):
    assert main(["pacs", "echo", orthanc.address]) == 0
    assert "C-ECHO ok" in capsys.readouterr().out
    assert main(["pacs", "echo", orthanc.dicomweb]) == 0
    assert "QIDO-RS ok" in capsys.readouterr().out


def test_find_by_patient_id_returns_the_rg1_study(orthanc, capsys):
    assert main(["pacs", "find", orthanc.address, "--patient-id", "9RG1", "--json"]) == 0
    (study,) = _json_lines(capsys.readouterr().out)
    assert study["StudyInstanceUID"] == RG1_STUDY
    assert (study["PatientID"], study["PatientName"], study["StudyDate"]) == ("9RG1", "CompressedSamples^RG1", "20040826")
    # CR, plus SR when another test has already stored an AI result in this study
    assert "CR" in study["Modalities"] and study["NumberOfStudyRelatedInstances"] >= 1
    # The table form names the same study; a date range and a modality narrow the search.
    assert main(["pacs", "find", orthanc.address, "--patient-id", "9RG1"]) == 0
    assert RG1_STUDY in capsys.readouterr().out
    assert main(["pacs", "find", orthanc.address, "--study-date", "20040101-20041231", "--modality", "CR", "--json"]) == 0
    found = {s["PatientID"] for s in _json_lines(capsys.readouterr().out)}
    assert {"9RG1", "10RG2"} <= found and "77654033" not in found  # the C-spine study is from 2001
    assert main(["pacs", "find", orthanc.address, "--patient-name", "CompressedSamples^RG*", "--root", "patient",
                 "--patient-id", "9RG1", "--json"]) == 0
    assert [s["StudyInstanceUID"] for s in _json_lines(capsys.readouterr().out)] == [RG1_STUDY]


def test_the_same_find_over_qido_rs(orthanc, capsys):
    assert main(["pacs", "find", orthanc.address, "--patient-id", "9RG1", "--json"]) == 0
    dimse = _json_lines(capsys.readouterr().out)
    assert main(["pacs", "find", orthanc.dicomweb, "--patient-id", "9RG1", "--json"]) == 0
    web = _json_lines(capsys.readouterr().out)
    keys = ("StudyInstanceUID", "PatientID", "PatientName", "StudyDate", "AccessionNumber", "Modalities")
    assert [{k: s[k] for k in keys} for s in web] == [{k: s[k] for k in keys} for s in dimse]
    assert web[0]["StudyInstanceUID"] == RG1_STUDY


def _check_rg1_instance(path: Path, dicom_dir: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    got = pydicom.dcmread(path)
    original = pydicom.dcmread(dicom_dir / "RG1_J2KR.dcm")
    assert got.SOPInstanceUID == RG1_J2KR_SOP and got.StudyInstanceUID == RG1_STUDY
    assert got.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID  # sent as stored, not transcoded
    assert got.PixelData == original.PixelData


@pytest.mark.parametrize("over", ["dimse", "dicomweb"])
def test_get_writes_its_instance(orthanc, dicom_dir, tmp_path, capsys, over):
    peer = orthanc.address if over == "dimse" else orthanc.dicomweb
    assert main(["pacs", "get", peer, RG1_STUDY, "-o", str(tmp_path / "out")]) == 0
    paths = [Path(line) for line in capsys.readouterr().out.splitlines()]
    path = tmp_path / "out" / RG1_STUDY / f"{RG1_J2KR_SOP}.dcm"
    assert path in paths and all(p.parent == path.parent for p in paths)  # the image (and any SR sent before)
    _check_rg1_instance(path, dicom_dir)
    assert not list((tmp_path / "out").rglob(".*"))  # no temp files left


def test_get_of_an_unknown_study_fails_and_leaves_nothing(orthanc, tmp_path, capsys):
    assert main(["pacs", "get", orthanc.address, "1.2.3.999", "-o", str(tmp_path / "out")]) == 1
    assert not list((tmp_path / "out").rglob("*.dcm"))


def test_a_cancelled_get_leaves_no_files(orthanc, tmp_path):
    cancel = threading.Event()
    cancel.set()
    store = ObjectStore(tmp_path / "out")
    client = DimseClient(Node(ae_title=ORTHANC_AET, host="127.0.0.1", port=orthanc.dicom_port))
    with pytest.raises(Cancelled):
        client.get(RG1_STUDY, store, cancel=cancel)
    assert not list((tmp_path / "out").rglob("*.dcm"))


def test_send_over_stow_rs(orthanc, dicom_dir, capsys):
    tiny = pydicom.dcmread(dicom_dir / "CR_tiny_3.dcm")  # not loaded into the PACS by the fixture
    assert main(["pacs", "send", orthanc.dicomweb, str(dicom_dir / "CR_tiny_3.dcm")]) == 0
    assert "1 of 1 files stored" in capsys.readouterr().out
    sops = {i["MainDicomTags"]["SOPInstanceUID"] for i in orthanc.study_instances(str(tiny.StudyInstanceUID))}
    assert str(tiny.SOPInstanceUID) in sops


def test_predict_sr_on_the_retrieved_image_then_send_it(orthanc, dicom_dir, tmp_path, capsys):
    """Retrieve RG1, run the bundled model with --sr, read the SR back, C-STORE it, find it in Orthanc's study."""
    assert main(["pacs", "get", orthanc.address, RG1_STUDY, "-o", str(tmp_path / "in")]) == 0
    capsys.readouterr()
    image = tmp_path / "in" / RG1_STUDY / f"{RG1_J2KR_SOP}.dcm"
    sr_path = tmp_path / "ai.dcm"
    assert main(["predict", str(image), "--sr", str(sr_path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert stat.S_IMODE(sr_path.stat().st_mode) == 0o600
    ds = pydicom.dcmread(sr_path)
    back = read_sr(ds)
    assert back.in_scope == printed["in_scope"]
    if printed["in_scope"]:
        assert back.probabilities == pytest.approx(printed["probabilities"], abs=1e-6)
        assert set(back.probabilities) == {"covid", "pneumonia", "normal"}
        assert sum(back.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert back.source_sop_uids == [RG1_J2KR_SOP]
    assert back.algorithm == (printed["model"], printed["model_version"])
    assert ds.StudyInstanceUID == RG1_STUDY and ds.PatientID == "9RG1"

    assert main(["pacs", "send", orthanc.address, str(sr_path)]) == 0
    assert "1 of 1 files stored" in capsys.readouterr().out
    listed = orthanc.study_instances(RG1_STUDY)
    assert str(ds.SOPInstanceUID) in {i["MainDicomTags"]["SOPInstanceUID"] for i in listed}
    assert RG1_J2KR_SOP in {i["MainDicomTags"]["SOPInstanceUID"] for i in listed}


def test_listen_receives_what_orthanc_sends_with_c_move(orthanc, dicom_dir, tmp_path, capsys):
    out = tmp_path / "received"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cxviewer", "pacs", "listen", "--ae", LISTENER_AET, "--port", str(orthanc.listener_port),
         "--bind", "127.0.0.1", "-o", str(out), "--allow", ORTHANC_AET],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)
    try:
        assert "listening as" in proc.stderr.readline()  # the server is up before the move starts
        assert main(["pacs", "get", orthanc.address, RG1_STUDY, "--move-to", LISTENER_AET]) == 0
        assert "C-MOVE to CXVLISTEN" in capsys.readouterr().out
        path = out / RG1_STUDY / f"{RG1_J2KR_SOP}.dcm"
        assert path.is_file()  # Orthanc's C-MOVE completes only after our listener stored it
        _check_rg1_instance(path, dicom_dir)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=15)
        assert proc.returncode == 0 and time.monotonic() - t0 < 15
        assert f"{ORTHANC_AET}: {path}" in stdout and "received" in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_exit_codes(orthanc, tmp_path, capsys):
    from tests.orthanc_server import free_port

    t0 = time.monotonic()
    assert main(["pacs", "echo", f"NOBODY@127.0.0.1:{free_port()}", "--timeout", "2"]) == 3
    assert time.monotonic() - t0 < 2
    assert "cannot connect" in capsys.readouterr().err
    assert main(["pacs", "find", "http://127.0.0.1:%d/dicom-web" % free_port(), "--timeout", "2"]) == 3
    assert main(["pacs", "echo", f"WRONGAET@127.0.0.1:{orthanc.dicom_port}"]) == 1  # Orthanc checks the called AE
    assert "Called AE title not recognised" in capsys.readouterr().err
    assert main(["pacs", "echo", f"{ORTHANC_AET}@127.0.0.1:{orthanc.dicom_port}", "--ae", "STRANGER"]) == 0  # echo is open
    assert main(["pacs", "find", f"{ORTHANC_AET}@127.0.0.1:{orthanc.dicom_port}", "--ae", "STRANGER"]) == 1  # find is not
    assert main(["pacs", "echo", "not-an-address"]) == 2
    assert main(["pacs", "find", orthanc.address, "--study-date", "2004"]) == 2
    assert main(["pacs", "get", orthanc.address, RG1_STUDY]) == 2  # no -o
    assert main(["pacs", "listen", "--port", str(free_port()), "-o", str(tmp_path / "x")]) == 2  # no --allow
    with pytest.raises(SystemExit) as exc:
        main(["pacs", "find"])
    assert exc.value.code == 2
