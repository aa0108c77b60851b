"""Proposed export names from hostile header values never leave the chosen folder."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from cxviewer.imaging import read_radiograph
from cxviewer.report import Report, proposed_filename, safe_join, sanitize_component
from report_samples import dicom_copy

HOSTILE = [
    "../../../../etc/passwd",
    "..\\..\\Windows\\System32\\drivers",
    "/absolute/path",
    "C:\\Users\\victim\\Desktop",
    "CON", "nul", "LPT1", "COM9",
    "．．／．．／etc",  # fullwidth dots and slash
    "name\x00with\x01controls\r\n",
    "evil\u202egpj.exe",  # right-to-left override
    "..", ".", "", "   ", ".hidden",
    "a" * 500,
    "Ｙａｍａｄａ^太郎",
    "x/../../y",
    "~/.bashrc",
    "$(rm -rf ~)`id`|;&<>*?\"'",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_sanitize_component(value):
    out = sanitize_component(value)
    assert "/" not in out and "\\" not in out and ".." not in out and ":" not in out
    assert not out.startswith((".", "-", "~"))
    assert all(unicodedata.category(c)[0] in "LN" or c in "-_" for c in out)
    assert len(out) <= 40
    assert out.upper() not in {"CON", "NUL", "LPT1", "COM9", "PRN", "AUX"}


def test_components_keep_readable_names():
    assert sanitize_component("YAMADA^TARO") == "YAMADA_TARO"
    assert sanitize_component("山田^太郎") == "山田_太郎"
    assert sanitize_component("Müller-Lüdenscheidt") == "Müller-Lüdenscheidt"
    assert sanitize_component("Ｙａｍａｄａ") == "Yamada"  # NFKC


@pytest.mark.filterwarnings("ignore:The PN component length")  # the 500-character name is the point
@pytest.mark.parametrize("hostile", HOSTILE)
def test_proposed_name_from_a_hostile_dicom_header(tmp_path, hostile):
    """Header values of a real DICOM copy set to hostile strings: the proposal is a plain name."""
    dcm = dicom_copy(tmp_path, PatientName=hostile.replace("\x00", ""), PatientID=hostile[:64].replace("\x00", ""),
                     AccessionNumber=hostile[:16].replace("\x00", ""), Modality="CR",
                     SpecificCharacterSet="ISO_IR 192")
    report = Report.for_radiograph(read_radiograph(dcm))
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    for anonymise in (False, True):
        for ext in ("pdf", "json"):
            name = proposed_filename(report, ext, anonymise)
            assert name == Path(name).name and name.endswith(f".{ext}")
            assert "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")
            assert len(name.encode("utf-8")) < 255
            target = safe_join(out_dir, name)
            assert target.parent == out_dir
            target.write_text("x", encoding="utf-8")  # it really is writable there
            assert target.resolve().parent == out_dir.resolve()


def test_anonymised_name_has_no_identifiers(tmp_path):
    dcm = dicom_copy(tmp_path, PatientName="Yamada^Taro", PatientID="JP-1", AccessionNumber="ACC-7",
                     StudyDate="20240131", Modality="CR")
    report = Report.for_radiograph(read_radiograph(dcm))
    plain = proposed_filename(report, "pdf")
    anon = proposed_filename(report, "pdf", anonymise=True)
    assert plain == "20240131_ACC-7_CR_report_draft.pdf"  # the accession: no patient name or ID
    assert anon == "20240131_anonymised_CR_report_draft.pdf"


def test_default_name_never_carries_the_patients_name_or_id(tmp_path):
    """Without an accession number: the study date and a short hash of the Study Instance UID."""
    import hashlib

    dcm = dicom_copy(tmp_path, PatientName="Yamada^Taro", PatientID="JP-1", AccessionNumber="",
                     StudyDate="20240131", Modality="CR")
    report = Report.for_radiograph(read_radiograph(dcm))
    name = proposed_filename(report, "pdf")
    digest = hashlib.sha256(report.header.study_uid.encode()).hexdigest()[:8]
    assert report.header.study_uid and name == f"20240131_study-{digest}_CR_report_draft.pdf"
    assert "Yamada" not in name and "JP-1" not in name and report.header.study_uid not in name
    other = dicom_copy(tmp_path, name="b.dcm", PatientName="Yamada^Taro", PatientID="JP-1", AccessionNumber="",
                       StudyDate="20240131", Modality="CR", StudyInstanceUID="1.2.3.4.5")
    assert proposed_filename(Report.for_radiograph(read_radiograph(other)), "pdf") != name  # two studies, two names


def test_safe_join_refuses_anything_but_a_plain_name(tmp_path):
    for bad in ("../x.pdf", "a/b.pdf", "..", ".", "", "a\\b.pdf", "/etc/passwd"):
        with pytest.raises(ValueError):
            safe_join(tmp_path, bad)
    with pytest.raises(ValueError):
        proposed_filename(Report(study_key="k"), "../pdf")
