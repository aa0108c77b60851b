"""The finalised report as a DICOM Encapsulated PDF: built from real films, stored on a real Orthanc,
found and retrieved again with the PDF unchanged; an anonymised one carries no identifier of the film."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import EncapsulatedPDFStorage

from cxviewer.cli import main
from cxviewer.pacs.report_document import (ReportDocumentError, build_report_document, pdf_from_document)
from tests.pdf_readback import read_text

RG1_STUDY = "1.3.6.1.4.1.5962.1.2.9.20040826185059.5457"
RG1_J2KR_SOP = "1.3.6.1.4.1.5962.1.1.9.1.2.20040826185059.5457"


def _report(dicom_dir: Path, tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    pdf, dcm = tmp_path / "report.pdf", tmp_path / "report.dcm"
    assert main(["report", str(dicom_dir / "RG1_J2KR.dcm"), "-o", str(pdf), "--dicom", str(dcm), "--no-ai",
                 "--impression", "No focal consolidation.", "--reader", "Dr Test", *extra]) == 0
    return pdf, dcm


def _values(ds: pydicom.Dataset) -> list[str]:
    """Every text value in the data set, nested sequences included (the PDF itself left out)."""
    out = []
    for elem in ds.iterall():
        if elem.keyword != "EncapsulatedDocument" and elem.VR not in ("SQ", "OB", "OW", "UN"):
            values = elem.value if isinstance(elem.value, (list, pydicom.multival.MultiValue)) else [elem.value]
            out += [str(v) for v in values]
    return out


def test_report_dicom_is_an_encapsulated_pdf_in_the_films_study(dicom_dir, tmp_path, capsys):
    pdf, dcm = _report(dicom_dir, tmp_path)
    assert f"and {dcm}" in capsys.readouterr().out
    assert stat.S_IMODE(dcm.stat().st_mode) == 0o600
    film = pydicom.dcmread(dicom_dir / "RG1_J2KR.dcm", stop_before_pixels=True)
    ds = pydicom.dcmread(dcm)
    assert ds.SOPClassUID == EncapsulatedPDFStorage == ds.file_meta.MediaStorageSOPClassUID
    assert ds.Modality == "DOC" and ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert ds.BurnedInAnnotation == "YES" and ds.DocumentTitle == "Chest radiograph report"
    code = ds.ConceptNameCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("18748-4", "LN")
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                    "AccessionNumber"):
        assert ds.get(keyword) == film.get(keyword), keyword
    assert ds.StudyInstanceUID == RG1_STUDY and ds.SeriesInstanceUID != film.SeriesInstanceUID
    ref = ds.SourceInstanceSequence[0]
    assert (ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID) == (film.SOPClassUID, RG1_J2KR_SOP)
    assert ds.VerificationFlag == "UNVERIFIED"  # the command line does not sign reports
    assert pdf_from_document(ds) == pdf.read_bytes()
    assert len(ds.EncapsulatedDocument) % 2 == 0 and ds.EncapsulatedDocumentLength == pdf.stat().st_size


def test_names_keep_their_character_set(tmp_path):
    """A Japanese name (ISO 2022 IR 87) reads the same in the report object as in the film."""
    from tests.report_samples import JAPANESE, dicom_copy

    film_path = dicom_copy(tmp_path, **JAPANESE)
    dcm = tmp_path / "report.dcm"
    assert main(["report", str(film_path), "-o", str(tmp_path / "report.pdf"), "--dicom", str(dcm), "--no-ai"]) == 0
    film, ds = pydicom.dcmread(film_path, stop_before_pixels=True), pydicom.dcmread(dcm)
    assert list(ds.SpecificCharacterSet) == ["", "ISO 2022 IR 87"]
    assert str(ds.PatientName) == str(film.PatientName) == JAPANESE["PatientName"]
    assert ds.PatientID == "JP-000123" and ds.AccessionNumber == "ACC-98765"


def test_an_anonymised_report_carries_no_identifier_of_the_film(dicom_dir, tmp_path):
    pdf, dcm = _report(dicom_dir, tmp_path, "--anonymize")
    film = pydicom.dcmread(dicom_dir / "RG1_J2KR.dcm", stop_before_pixels=True)
    ds = pydicom.dcmread(dcm)
    values = _values(ds)
    secrets = [str(film.PatientID), str(film.PatientName), str(film.StudyInstanceUID), str(film.SeriesInstanceUID),
               str(film.SOPInstanceUID), str(film.StudyDate)]
    secrets += [str(film.AccessionNumber)] if film.get("AccessionNumber") else []
    secrets += [str(film.PatientBirthDate)] if film.get("PatientBirthDate") else []
    assert not [s for s in secrets if any(s in v for v in values)]
    assert "SourceInstanceSequence" not in ds
    assert ds.PatientIdentityRemoved == "YES" and ds.PatientName == "" and ds.PatientID.startswith("ANON-")
    assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert ds.StudyDate == "" and ds.ContentDate == "" and ds.LongitudinalTemporalInformationModified == "REMOVED"
    # the PDF inside is the anonymised one, and says so; it shows none of those identifiers either
    assert pdf_from_document(ds) == pdf.read_bytes()
    text = read_text(pdf)
    assert "Anonymised export" in text and not [s for s in secrets[:2] if s in text]
    # with the dates kept: the study date in both, and the option coded
    (tmp_path / "dates").mkdir()
    _pdf, dcm2 = _report(dicom_dir, tmp_path / "dates", "--anonymize", "--keep-dates")
    ds2 = pydicom.dcmread(dcm2)
    assert ds2.StudyDate == film.StudyDate and ds2.LongitudinalTemporalInformationModified == "UNMODIFIED"
    assert [c.CodeValue for c in ds2.DeidentificationMethodCodeSequence] == ["113100", "113106"]
    assert list(ds2.DeidentificationMethod) == ["Basic Application Confidentiality Profile",
                                                "Retain Longitudinal Temporal Information Full Dates Option"]
    assert ds2.PatientID != ds.PatientID and ds2.StudyInstanceUID != ds.StudyInstanceUID  # never linkable


def test_refusals(dicom_dir, shared_dir, tmp_path, capsys):
    photo = next((shared_dir / "data" / "cxr" / "images" / "normal").glob("*.jpg"))
    out = tmp_path / "r.dcm"
    assert main(["report", str(photo), "-o", str(tmp_path / "r.pdf"), "--dicom", str(out), "--no-ai"]) == 1
    assert "not a DICOM film" in capsys.readouterr().err and not out.exists()
    from cxviewer.imaging import read_radiograph
    from cxviewer.report import Report

    film = pydicom.dcmread(dicom_dir / "RG1_J2KR.dcm", stop_before_pixels=True)
    other = pydicom.dcmread(dicom_dir / "RG2_J2KR.dcm", stop_before_pixels=True)
    report = Report.for_radiograph(read_radiograph(dicom_dir / "RG2_J2KR.dcm"))
    assert report.header.study_uid == other.StudyInstanceUID
    with pytest.raises(ReportDocumentError, match="belongs to study"):
        build_report_document(b"%PDF-1.4 x", report, film)
    with pytest.raises(ReportDocumentError, match="not a PDF"):
        build_report_document(b"<html>", report, other)


def test_send_the_report_find_and_retrieve_it(orthanc, dicom_dir, tmp_path, capsys):
    pdf, dcm = _report(dicom_dir, tmp_path)
    sop = str(pydicom.dcmread(dcm).SOPInstanceUID)
    capsys.readouterr()
    assert main(["pacs", "send", orthanc.address, str(dcm)]) == 0
    assert "1 of 1 files stored" in capsys.readouterr().out
    # Orthanc files it in RG1's study, next to the film, with the Encapsulated PDF SOP class
    listed = {i["MainDicomTags"]["SOPInstanceUID"]: i for i in orthanc.study_instances(RG1_STUDY)}
    assert sop in listed and RG1_J2KR_SOP in listed
    tags = orthanc.rest(f"/instances/{listed[sop]['ID']}/simplified-tags")
    assert tags["SOPClassUID"] == EncapsulatedPDFStorage and tags["Modality"] == "DOC"
    assert tags["PatientID"] == "9RG1"
    # C-FIND names the study with the document's modality; C-GET brings the PDF back byte for byte
    assert main(["pacs", "find", orthanc.address, "--patient-id", "9RG1", "--json"]) == 0
    (study,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert "DOC" in study["Modalities"] and "CR" in study["Modalities"]
    assert main(["pacs", "get", orthanc.address, RG1_STUDY, "-o", str(tmp_path / "back")]) == 0
    back = pydicom.dcmread(tmp_path / "back" / RG1_STUDY / f"{sop}.dcm")
    assert back.SOPClassUID == EncapsulatedPDFStorage and back.PatientID == "9RG1"
    assert pdf_from_document(back) == pdf.read_bytes()


def test_an_anonymised_report_goes_to_a_study_of_its_own(orthanc, dicom_dir, tmp_path, capsys):
    pdf, dcm = _report(dicom_dir, tmp_path, "--anonymize")
    ds = pydicom.dcmread(dcm)
    assert main(["pacs", "send", orthanc.dicomweb, str(dcm)]) == 0  # STOW-RS this time
    capsys.readouterr()
    assert main(["pacs", "find", orthanc.address, "--patient-id", str(ds.PatientID), "--json"]) == 0
    (study,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert study["StudyInstanceUID"] == ds.StudyInstanceUID != RG1_STUDY and study["Modalities"] == ["DOC"]
    assert str(ds.SOPInstanceUID) not in {i["MainDicomTags"]["SOPInstanceUID"] for i in orthanc.study_instances(RG1_STUDY)}
