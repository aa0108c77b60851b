"""The reader's report as a DICOM Encapsulated PDF (PS3.3 A.45.1), to store in the film's study.

Modules: Patient, General Study, Encapsulated Document Series (Modality DOC, a new series),
General Equipment, SC Equipment (conversion type WSD), Encapsulated Document, SOP Common.
- Document Title "Chest radiograph report"; Concept Name LOINC 18748-4 "Diagnostic Imaging Report"
  (CID 7000); MIME type application/pdf; Burned In Annotation YES (the PDF shows the patient's
  identification as text); Verification Flag VERIFIED for a Final report, UNVERIFIED otherwise.
- The header says no more than the PDF shows. A named report goes into the film's study: Patient and
  Study attributes copied from the film's own header (its character set too), the film cited in the
  Source Instance Sequence. An anonymised report (a PDF rendered with ``anonymise``) carries no name,
  ID, birth date, sex, accession, referring physician, film UIDs or, without ``keep_dates``, dates:
  it gets a new Study Instance UID, a random Patient ID that is not derived from the real one (so a
  PACS does not file different people's anonymised reports under one patient), Patient Identity
  Removed YES and the de-identification method (PS3.15 Basic Profile, code 113100; 113106 with the
  dates kept).
"""

from __future__ import annotations

import io
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, EncapsulatedPDFStorage, ExplicitVRLittleEndian, generate_uid

DOCUMENT_TITLE = "Chest radiograph report"
CONCEPT = ("18748-4", "LN", "Diagnostic Imaging Report")
BASIC_PROFILE_CODE = ("113100", "DCM", "Basic Application Confidentiality Profile")
KEEP_DATES_CODE = ("113106", "DCM", "Retain Longitudinal Temporal Information Full Dates Option")
MIME_PDF = "application/pdf"
SERIES_NUMBER = 9902
SERIES_DESCRIPTION = "CXViewer report"
ANONYMOUS_ID_PREFIX = "ANON-"

# Patient and General Study attributes copied from the film for a named report (type 2 ones are
# written empty when the film lacks them; type 3 ones are left out).
_PATIENT_STUDY_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                        "ReferringPhysicianName", "StudyID", "AccessionNumber")
_PATIENT_STUDY_TYPE3 = ("IssuerOfPatientID", "StudyDescription")


class ReportDocumentError(ValueError):
    """A report that cannot be filed as asked (no DICOM film for a named report, a film of another study)."""


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _version() -> str:
    try:
        from cxviewer import __version__

        return str(__version__)
    except ImportError:
        return ""


def build_report_document(pdf: bytes, report: Any, source: Dataset | None = None, anonymise: bool = False,
                          keep_dates: bool = False, now: datetime | None = None) -> Dataset:
    """The Encapsulated PDF data set (with file meta) for ``pdf``, the rendered ``report``
    (a ``cxviewer.report.Report``; its status and header decide the flags and the check below).

    ``source``: the film's DICOM header, required unless ``anonymise``; its Study Instance UID must
    be the report's. ``anonymise`` must match how ``pdf`` was rendered (the caller rendered it).
    """
    if not pdf.startswith(b"%PDF-"):
        raise ReportDocumentError("the document is not a PDF")
    now = now or datetime.now().astimezone()
    ds = Dataset()
    if anonymise:
        _anonymous_patient_and_study(ds, report, keep_dates)
    else:
        _film_patient_and_study(ds, report, source)

    ds.Modality = "DOC"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = SERIES_NUMBER
    ds.SeriesDescription = SERIES_DESCRIPTION
    ds.Manufacturer = "CXViewer"
    if _version():
        ds.SoftwareVersions = _version()
    ds.ConversionType = "WSD"

    dated = not anonymise or keep_dates
    ds.InstanceNumber = 1
    ds.ContentDate = now.strftime("%Y%m%d") if dated else ""
    ds.ContentTime = now.strftime("%H%M%S") if dated else ""
    ds.AcquisitionDateTime = ""
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = DOCUMENT_TITLE
    ds.ConceptNameCodeSequence = [_code(*CONCEPT)]
    ds.VerificationFlag = "VERIFIED" if getattr(report, "is_final", False) else "UNVERIFIED"
    ds.MIMETypeOfEncapsulatedDocument = MIME_PDF
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")  # OB: even length
    ds.EncapsulatedDocumentLength = len(pdf)

    ds.SOPClassUID = EncapsulatedPDFStorage
    ds.SOPInstanceUID = generate_uid()
    if dated:
        ds.InstanceCreationDate, ds.InstanceCreationTime = ds.ContentDate, ds.ContentTime

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def _film_patient_and_study(ds: Dataset, report: Any, source: Dataset | None) -> None:
    if source is None or not source.get("StudyInstanceUID") or not source.get("SOPInstanceUID"):
        raise ReportDocumentError("the image is not a DICOM film: there is no patient or study to file the report "
                                  "under (an anonymised report can still be sent)")
    header = getattr(report, "header", None)
    expected = str(getattr(header, "study_uid", "") or "")
    if expected and expected != str(source.StudyInstanceUID):
        raise ReportDocumentError(f"the report belongs to study {expected}, the film to {source.StudyInstanceUID}")
    if source.get("SpecificCharacterSet"):  # names keep their encoding (absent: the default repertoire)
        ds.SpecificCharacterSet = source.SpecificCharacterSet
    for keyword in _PATIENT_STUDY_TYPE2:
        setattr(ds, keyword, source.get(keyword, ""))
    for keyword in _PATIENT_STUDY_TYPE3:
        if source.get(keyword):
            setattr(ds, keyword, source.get(keyword))
    ds.StudyInstanceUID = source.StudyInstanceUID
    ref = Dataset()
    ref.ReferencedSOPClassUID = source.SOPClassUID
    ref.ReferencedSOPInstanceUID = source.SOPInstanceUID
    ds.SourceInstanceSequence = [ref]


def _anonymous_patient_and_study(ds: Dataset, report: Any, keep_dates: bool) -> None:
    header = getattr(report, "header", None)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = ""
    ds.PatientID = ANONYMOUS_ID_PREFIX + secrets.token_hex(8).upper()
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = generate_uid()
    ds.StudyDate = str(getattr(header, "study_date", "") or "") if keep_dates else ""
    ds.StudyTime = str(getattr(header, "study_time", "") or "") if keep_dates else ""
    ds.ReferringPhysicianName = ""
    ds.StudyID = ""
    ds.AccessionNumber = ""
    ds.PatientIdentityRemoved = "YES"
    methods = [BASIC_PROFILE_CODE] + ([KEEP_DATES_CODE] if keep_dates else [])  # what profile_name() names
    ds.DeidentificationMethod = [meaning for _value, _scheme, meaning in methods]  # LO: 64 characters each
    ds.DeidentificationMethodCodeSequence = [_code(*code) for code in methods]
    ds.LongitudinalTemporalInformationModified = "UNMODIFIED" if keep_dates else "REMOVED"


def document_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def write_report_document(out: Path, pdf: bytes, report: Any, source: Dataset | None = None,
                          anonymise: bool = False, keep_dates: bool = False) -> Path:
    """Build and write the Encapsulated PDF atomically, owner-readable only."""
    from cxviewer.files.atomic import atomic_write_bytes

    ds = build_report_document(pdf, report, source, anonymise=anonymise, keep_dates=keep_dates)
    return atomic_write_bytes(Path(out), document_bytes(ds), private=True)


def pdf_from_document(ds: Dataset | str | Path) -> bytes:
    """The PDF an Encapsulated PDF object holds, without the even-length padding."""
    if not isinstance(ds, Dataset):
        ds = dcmread(ds)
    if str(ds.SOPClassUID) != EncapsulatedPDFStorage:
        raise ReportDocumentError(f"not an Encapsulated PDF (SOP class {ds.SOPClassUID})")
    data = bytes(ds.EncapsulatedDocument)
    length = ds.get("EncapsulatedDocumentLength")
    if length is not None and 0 <= int(length) <= len(data):
        return data[: int(length)]
    return data.rstrip(b"\0") if data.endswith(b"\0") else data
