"""StudyIndex: patient -> study -> series -> instance grouping by UIDs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from dicom_builder import build_dicom

from cxviewer.imaging import Radiograph, StudyIndex, UnreadableImageError, read_radiograph

PIXELS = np.zeros((4, 4), np.uint16)


def _dicom(tmp_path, name, **elements) -> Radiograph:
    return read_radiograph(build_dicom(tmp_path / f"{name}.dcm", PIXELS, **elements))


def test_grouping_and_instance_order(tmp_path):
    pa = dict(PatientID="P1", PatientName="Doe^Jane", StudyInstanceUID="1.2.1", StudyDate="20240102")
    rads = [
        _dicom(tmp_path, "s1_i3", **pa, SeriesInstanceUID="1.2.1.1", SeriesNumber=1, InstanceNumber=3),
        _dicom(tmp_path, "s1_i1", **pa, SeriesInstanceUID="1.2.1.1", SeriesNumber=1, InstanceNumber=1),
        _dicom(tmp_path, "s2_i1", **pa, SeriesInstanceUID="1.2.1.2", SeriesNumber=2, InstanceNumber=1),
        _dicom(tmp_path, "s1_i2", **pa, SeriesInstanceUID="1.2.1.1", SeriesNumber=1, InstanceNumber=2),
        _dicom(tmp_path, "older", PatientID="P1", PatientName="Doe^Jane", StudyInstanceUID="1.2.0", StudyDate="20200101", SeriesInstanceUID="1.2.0.1"),
        _dicom(tmp_path, "other", PatientID="P2", PatientName="Roe^Rick", StudyInstanceUID="9.9", SeriesInstanceUID="9.9.1"),
    ]
    index = StudyIndex()
    index.add(*rads)
    assert len(index) == 6
    assert [p.patient_id for p in index.patients] == ["P1", "P2"]
    jane = index.patients[0]
    assert jane.label == "Doe^Jane (P1)"
    assert [s.study_uid for s in jane.studies] == ["1.2.0", "1.2.1"]  # oldest first
    series = jane.studies[1].series
    assert [s.number for s in series] == [1, 2]
    assert [r.instance_number for r in series[0].instances] == [1, 2, 3]
    assert [r.path.stem for r in index.instances()][:4] == ["older", "s1_i1", "s1_i2", "s1_i3"]


def test_plain_images_are_studies_of_their_own(tmp_path):
    paths = []
    for name in ("a.png", "b.png"):
        ok, data = cv2.imencode(".png", np.zeros((4, 4), np.uint8))
        (tmp_path / name).write_bytes(data.tobytes())
        paths.append(tmp_path / name)
    index = StudyIndex()
    index.add(*(read_radiograph(p) for p in paths))
    assert len(index.patients) == 2
    assert all(len(p.studies) == 1 and len(p.studies[0].series) == 1 for p in index.patients)
    assert index.patients[0].label == "Image file a.png"


def test_errors_are_kept_and_readding_replaces(tmp_path):
    index = StudyIndex()
    path = build_dicom(tmp_path / "x.dcm", PIXELS, PatientID="P1", StudyInstanceUID="1.1", SeriesInstanceUID="1.1.1")
    index.add(read_radiograph(path))
    index.add(read_radiograph(path))
    assert len(index) == 1 and len(index.instances()) == 1 and path in index
    bad = tmp_path / "bad.dcm"
    bad.write_text("not an image")
    with pytest.raises(UnreadableImageError) as info:
        read_radiograph(bad)
    index.add(info.value)
    assert index.errors == [info.value] and len(index) == 1
    index.remove(path)
    assert len(index) == 0 and index.patients == []
    with pytest.raises(TypeError):
        index.add("x.dcm")


def test_missing_uids_do_not_merge_unrelated_files(tmp_path):
    a = _dicom(tmp_path, "a", StudyInstanceUID="", SeriesInstanceUID="")
    b = _dicom(tmp_path, "b", StudyInstanceUID="", SeriesInstanceUID="")
    index = StudyIndex()
    index.add(a, b)
    assert len(index.patients) == 1 and index.patients[0].label == "Unknown patient"
    assert len(index.patients[0].studies) == 2


def test_shared_rg2_variants(dicom_dir):
    """The RG2 files are one patient (10RG2) in two studies (the RLE copy was re-encoded apart)."""
    index = StudyIndex()
    for name in ("RG2_JPLL", "RG2_RLE", "RG2_JLSL", "RG2_J2KR", "RG1_J2KR"):
        index.add(read_radiograph(dicom_dir / f"{name}.dcm"))
    by_id = {p.patient_id: p for p in index.patients}
    assert set(by_id) == {"10RG2", "9RG1"}
    assert sum(len(se.instances) for st in by_id["10RG2"].studies for se in st.series) == 4
