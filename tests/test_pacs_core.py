"""PACS core without a PACS: addresses, queries, the object store, the SR, the listener's rules, timeouts."""

from __future__ import annotations

import io
import socket
import os
import shutil
import stat
import time
from pathlib import Path

import pydicom
import pytest

from cxviewer.imaging.dicom_file import read_header
from cxviewer.pacs import BadAddress, PeerError, StudyQuery, Unreachable, parse_address
from cxviewer.pacs.dimse import DimseClient
from cxviewer.pacs.errors import LimitExceeded
from cxviewer.pacs.files import collect
from cxviewer.pacs.listener import Listener
from cxviewer.pacs.nodes import Node
from cxviewer.pacs.sr import AIResult, build_sr, read_sr, sr_bytes
from cxviewer.pacs.storage import ObjectStore
from tests.orthanc_server import free_port


def test_addresses():
    node = parse_address("ORTHANC@pacs.example.org:4242")
    assert (node.ae_title, node.host, node.port, node.is_web) == ("ORTHANC", "pacs.example.org", 4242, False)
    assert parse_address("A@[::1]:104").host == "::1"
    web = parse_address("https://alice:s3cret@pacs.example.org:8443/dicom-web/")
    assert web.is_web and web.url == "https://pacs.example.org:8443/dicom-web"
    assert (web.username, web.password) == ("alice", "s3cret")
    assert "s3cret" not in repr(web) and "s3cret" not in web.describe()
    for bad in ("pacs:104", "A@host", "A@host:0", "A@host:70000", "THIS_AE_TITLE_IS_TOO_LONG@h:104",
                "A\\B@h:104", "ftp://host/x", "@h:104"):
        with pytest.raises(BadAddress):
            parse_address(bad)


def test_queries_are_checked():
    StudyQuery(study_date="20040826").validate()
    StudyQuery(study_date="20040101-20041231").validate()
    StudyQuery(study_date="-20041231").validate()
    for date in ("2004", "20040101-2004", "yesterday", "-"):
        with pytest.raises(BadAddress):
            StudyQuery(study_date=date).validate()
    with pytest.raises(BadAddress):
        StudyQuery(modality="C R").validate()
    ident = StudyQuery(patient_id="9RG1", modality="CR").identifier()
    assert ident.QueryRetrieveLevel == "STUDY" and ident.PatientID == "9RG1" and ident.ModalitiesInStudy == "CR"
    assert "StudyInstanceUID" in ident and ident.StudyInstanceUID == ""
    assert StudyQuery(patient_id="9RG1").qido_filters() == {"PatientID": "9RG1"}


def test_store_is_private_atomic_and_limited(tmp_path: Path, dicom_dir: Path):
    data = (dicom_dir / "CR_tiny_1.dcm").read_bytes()
    store = ObjectStore(tmp_path / "in", max_object_bytes=len(data), max_objects=2)
    path = store.save(data, "1.2.3", "1.2.3.4")
    assert path == tmp_path / "in" / "1.2.3" / "1.2.3.4.dcm" and path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # A UID that tries to climb out of the folder becomes a hash.
    odd = store.save(data, "../../etc", "x/../../passwd")
    assert odd.parent.parent == tmp_path / "in" and ".." not in odd.name
    with pytest.raises(LimitExceeded):
        store.save(data + b"x", "1.2.3", "1.2.3.5")
    with pytest.raises(LimitExceeded):
        store.save(data, "1.2.3", "1.2.3.6")
    assert not list((tmp_path / "in").rglob(".*.tmp"))
    store.discard()
    assert not list((tmp_path / "in").rglob("*.dcm"))


def test_collect_files_by_content(tmp_path: Path, dicom_dir: Path):
    (tmp_path / "notes.txt").write_text("not DICOM")
    files, skipped = collect([dicom_dir / "CR_tiny_1.dcm", dicom_dir / "CR-MONO1-10-chest.dcm", tmp_path / "notes.txt"])
    assert [p.name for p, _ in files] == ["CR_tiny_1.dcm"]
    assert any("CR-MONO1" in s and "Part 10" in s for s in skipped)  # no file meta: cannot be sent as it is
    assert any("notes.txt" in s for s in skipped)
    files, _ = collect([dicom_dir])
    assert {p.name for p, _ in files} >= {"RG1_J2KR.dcm", "CR_tiny_3.dcm"}


def _walk(ds):
    for item in ds.get("ContentSequence", []):
        yield item
        yield from _walk(item)


def _sr_readback(result: AIResult, source) -> tuple:
    sr = build_sr(result, source)
    ds = pydicom.dcmread(io.BytesIO(sr_bytes(sr)))
    return ds, read_sr(ds)


def test_sr_content_in_scope(dicom_dir: Path):
    source = read_header(dicom_dir / "RG1_J2KR.dcm")
    result = AIResult("cxnet-densenet121-lungcrop", "2.0.0", True, {"covid": 0.379, "pneumonia": 0.345, "normal": 0.276}, "uncertain")
    ds, back = _sr_readback(result, source)
    assert ds.Modality == "SR" and ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    assert ds.StudyInstanceUID == source.StudyInstanceUID and ds.PatientID == source.PatientID == "9RG1"
    assert ds.SeriesInstanceUID != source.SeriesInstanceUID
    assert "not a diagnosis" in ds.SeriesDescription
    assert back.probabilities == pytest.approx({"covid": 0.379, "pneumonia": 0.345, "normal": 0.276})
    assert back.call == "uncertain" and back.in_scope
    assert back.algorithm == ("cxnet-densenet121-lungcrop", "2.0.0")
    assert back.source_sop_uids == [source.SOPInstanceUID]
    assert "research use, not a diagnosis" in back.notice and "not a diagnosis" in back.title
    numeric = {item.ConceptNameCodeSequence[0].CodeValue: item.MeasuredValueSequence[0]
               for item in _walk(ds) if item.get("ValueType") == "NUM"}
    assert set(numeric) == {"840539006", "233604007", "17621005"}  # SNOMED CT COVID-19, pneumonia, normal
    assert float(numeric["840539006"].NumericValue) == pytest.approx(0.379)
    assert numeric["840539006"].MeasurementUnitsCodeSequence[0].CodeValue == "1"


def test_sr_content_out_of_scope(dicom_dir: Path):
    source = read_header(dicom_dir / "RG2_J2KR.dcm")
    result = AIResult("m", "1", False, None, None, "the header says HIP, not CHEST")
    _ds, back = _sr_readback(result, source)
    assert back.probabilities == {} and back.call is None and not back.in_scope
    assert back.scope_reason == "the header says HIP, not CHEST"


def test_sr_of_an_old_film_without_patient_attributes(dicom_dir: Path):
    source = read_header(dicom_dir / "CR-MONO1-10-chest.dcm")  # ACR-NEMA style: no Patient ID, no Study Date
    assert "PatientID" not in source
    result = AIResult("m", "1", True, {"covid": 0.1, "pneumonia": 0.2, "normal": 0.7}, "normal")
    ds, back = _sr_readback(result, source)
    assert ds.PatientID == "" and ds.StudyInstanceUID == source.StudyInstanceUID  # empty, as type 2 allows
    assert back.probabilities == pytest.approx({"covid": 0.1, "pneumonia": 0.2, "normal": 0.7})
    assert "PatientID" not in source  # the film's header is left as it was


def test_listener_takes_only_allowed_ae_titles(tmp_path: Path, dicom_dir: Path):
    port = free_port()
    received = []
    listener = Listener(ObjectStore(tmp_path / "rx"), ae_title="CXVLISTEN", port=port, host="127.0.0.1",
                        allowed={"FRIEND"}, on_received=lambda p, a, s: received.append((p, a)))
    listener.start()
    try:
        node = Node(ae_title="CXVLISTEN", host="127.0.0.1", port=port)
        with pytest.raises(PeerError, match="[Cc]alling AE title not recognised"):
            DimseClient(node, calling_ae="STRANGER", timeout=5).echo()
        DimseClient(node, calling_ae="FRIEND", timeout=5).echo()
        files, _ = collect([dicom_dir / "CR_tiny_1.dcm"])
        result = DimseClient(node, calling_ae="FRIEND", timeout=5).send(files)
        assert result.completed == 1
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        (path, calling), = received
        assert calling == "FRIEND" and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert pydicom.dcmread(path).SOPInstanceUID == files[0][1].SOPInstanceUID
    finally:
        listener.stop()
    with pytest.raises(BadAddress):
        Listener(ObjectStore(tmp_path / "rx"), port=port, allowed=set())


def test_unreachable_within_the_timeout():
    closed = free_port()  # nothing listens there
    t0 = time.monotonic()
    with pytest.raises(Unreachable):
        DimseClient(Node(ae_title="X", host="127.0.0.1", port=closed), timeout=2).echo()
    assert time.monotonic() - t0 < 2
    # A port that accepts the connection but never answers: the association timeout fires.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        node = Node(ae_title="X", host="127.0.0.1", port=silent.getsockname()[1])
        t0 = time.monotonic()
        with pytest.raises(Unreachable, match="no DICOM answer"):
            DimseClient(node, timeout=2).echo()
        assert 1.5 < time.monotonic() - t0 < 2 + 3  # the timeout, plus a loaded machine's slack


def test_sr_of_an_uncertain_film_says_why_the_model_made_no_call(dicom_dir: Path):
    """A chest CR (MONOCHROME1) through the bundled classifier: uncertain, and the SR carries the reason the panel
    shows."""
    from cxviewer.imaging import read_radiograph
    from cxviewer.model import load_classifier
    from cxviewer.pacs.sr import result_from_prediction

    path = dicom_dir / "CR-MONO1-10-chest.dcm"
    pred = load_classifier(None, "litert").predict_radiograph(read_radiograph(path), gradcam=False, outline=False)
    assert pred.call == "uncertain" and pred.call_note
    _ds, back = _sr_readback(result_from_prediction(pred), read_header(path))
    assert back.call == "uncertain" and back.call_note == pred.call_note
    called = AIResult("m", "1", True, {"covid": 0.8, "pneumonia": 0.15, "normal": 0.05}, "covid", call_note="ignored")
    assert _sr_readback(called, read_header(path))[1].call_note == ""  # a called film has no reason to give


def test_a_folder_the_user_names_keeps_its_mode_and_what_is_made_is_owner_only(tmp_path: Path, dicom_dir: Path):
    """``pacs get --out /srv/shared``: the shared folder is not locked to its owner; the study folders made in it are
    0700, and a missing output folder (with its missing parents) is made 0700."""
    data = (dicom_dir / "CR_tiny_1.dcm").read_bytes()
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o775)
    path = ObjectStore(shared).save(data, "1.2.3", "1.2.3.4")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o775 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    fresh = tmp_path / "new" / "deeper"
    ObjectStore(fresh).save(data, "1.2.3", "1.2.3.4")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700 and stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700


def test_collect_says_why_a_file_cannot_be_read_and_skips_pipes_in_a_folder(tmp_path: Path, dicom_dir: Path,
                                                                             monkeypatch):
    """``pacs send``: a file it may not read is "cannot be read (Permission denied)", not "not a DICOM file"; a named
    pipe in a folder is passed over (opening it would wait for a writer forever)."""
    import builtins

    import cxviewer.pacs.files as pacs_files

    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(dicom_dir / "CR_tiny_1.dcm", folder / "a.dcm")
    locked = shutil.copy(dicom_dir / "CR_tiny_2.dcm", folder / "locked.dcm")
    os.mkfifo(folder / "pipe")
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):  # root reads any file: refuse this one as a normal user would be refused
        if Path(file) == Path(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(pacs_files, "open", guarded_open, raising=False)
    files, skipped = collect([folder])
    assert [p.name for p, _ in files] == ["a.dcm"]
    assert skipped == [f"{locked}: cannot be read (Permission denied)"]
