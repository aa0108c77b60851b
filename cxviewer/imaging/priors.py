"""Finding the prior: the most recent earlier study of the same patient (Qt-free).

Same patient = study_grouping.same_patient, the browser's rule: the same Patient ID (0010,0020)
under the same Issuer of Patient ID (0010,0021), since two hospitals may give one number to two
people; a film whose issuer is missing is not matched to one that names it. Earlier = a study date
(and time) before the current film's, in another study (Study Instance UID). Films without a
Patient ID or a study date cannot be matched and never are.

Candidates are what the reader has open, plus DICOM files found (headers only, a bounded number
of small reads) in the folders the reader opened.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxviewer.imaging.study_grouping import same_patient

log = logging.getLogger(__name__)

MAX_FOLDER_FILES = 2000
_TAGS = ["PatientID", "IssuerOfPatientID", "StudyInstanceUID", "StudyDate", "StudyTime", "SOPClassUID",
         "SeriesNumber", "InstanceNumber", "Rows"]


@dataclass(frozen=True)
class StudyRef:
    """One film's place in a patient's history."""

    path: Path
    patient_id: str
    issuer: str
    study_uid: str
    study_date: str  # YYYYMMDD
    study_time: str = ""  # HHMMSS(.ffffff)
    series_number: int | None = None
    instance_number: int | None = None

    @property
    def when(self) -> tuple[str, str]:
        time = "".join(c for c in self.study_time if c.isdigit() or c == ".")
        return self.study_date.strip(), (time.split(".")[0] + "000000")[:6] if time else "000000"

    @classmethod
    def of(cls, item: Any) -> StudyRef:
        """From a Radiograph or an ImageEntry (``patient_issuer`` or the header's issuer)."""
        issuer = getattr(item, "patient_issuer", "") or ""
        header = getattr(item, "header", None)
        if not issuer and header is not None:
            issuer = str(header.get("IssuerOfPatientID", "") or "")
        return cls(Path(item.path), str(item.patient_id or "").strip(), issuer.strip(), str(item.study_uid or ""),
                   str(item.study_date or "").strip(), str(item.study_time or "").strip(),
                   getattr(item, "series_number", None), getattr(item, "instance_number", None))


def _same_patient(a: StudyRef, b: StudyRef) -> bool:
    return same_patient(a.patient_id, a.issuer, b.patient_id, b.issuer)


def _valid_date(d: str) -> bool:
    return len(d) == 8 and d.isdigit()


def find_prior(current: StudyRef, candidates: Iterable[StudyRef]) -> StudyRef | None:
    """The first film (by series and instance number) of the most recent earlier study of the
    same patient, or None."""
    if not _valid_date(current.study_date):
        return None
    earlier = [c for c in candidates
               if _same_patient(current, c) and _valid_date(c.study_date) and c.when < current.when
               and c.study_uid != current.study_uid]
    if not earlier:
        return None
    latest = max(c.when for c in earlier)
    study = [c for c in earlier if c.when == latest]
    uid = sorted({c.study_uid for c in study})[0]  # two studies at the same instant: pick one steadily
    films = [c for c in study if c.study_uid == uid]
    return min(films, key=lambda c: (c.series_number is None, c.series_number or 0,
                                     c.instance_number is None, c.instance_number or 0, c.path.name))


def scan_folder(folder: Path, skip: Iterable[Path] = ()) -> list[StudyRef]:
    """Headers of the DICOM files directly in ``folder`` (images only: a presentation state or a
    report without Rows is no film); files in ``skip`` (already known) are not read."""
    import pydicom

    refs: list[StudyRef] = []
    skip = set(skip)
    try:
        files = sorted(p for p in Path(folder).iterdir() if p.is_file() and p not in skip)[:MAX_FOLDER_FILES]
    except OSError:
        return refs
    for p in files:
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True, specific_tags=_TAGS)
        except Exception:  # noqa: BLE001 - not DICOM or damaged: not a candidate
            continue
        if ds.get("Rows") is None or not ds.get("PatientID"):
            continue
        refs.append(StudyRef(p, str(ds.get("PatientID", "")).strip(), str(ds.get("IssuerOfPatientID", "") or "").strip(),
                             str(ds.get("StudyInstanceUID", "")), str(ds.get("StudyDate", "") or "").strip(),
                             str(ds.get("StudyTime", "") or "").strip(),
                             _int(ds.get("SeriesNumber")), _int(ds.get("InstanceNumber"))))
    return refs


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None
