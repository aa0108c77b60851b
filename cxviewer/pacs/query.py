"""A study-level query and its answers, the same for C-FIND and QIDO-RS."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.dataset import Dataset

from cxviewer.pacs.errors import BadAddress

_DATE = re.compile(r"^(\d{8})?(-)?(\d{8})?$")
_MODALITY = re.compile(r"^[A-Z0-9_]{1,16}$")
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")

# Attributes asked for in every study query (the answer's columns).
RETURN_KEYS = (
    "StudyInstanceUID", "PatientID", "PatientName", "PatientBirthDate", "StudyDate", "StudyTime",
    "StudyDescription", "AccessionNumber", "ModalitiesInStudy", "NumberOfStudyRelatedInstances",
)


def check_uid(uid: str) -> str:
    uid = uid.strip()
    if not uid or len(uid) > 64 or not _UID.match(uid):
        raise BadAddress(f"not a DICOM UID: {uid!r}")
    return uid


@dataclass
class StudyQuery:
    """Matching keys; empty ones match everything. ``patient_name`` may use * and ? wildcards."""

    patient_id: str = ""
    patient_name: str = ""
    study_date: str = ""  # YYYYMMDD or YYYYMMDD-YYYYMMDD (either end may be open)
    modality: str = ""
    accession: str = ""
    study_uid: str = ""

    def validate(self) -> StudyQuery:
        if self.study_date:
            m = _DATE.match(self.study_date)
            if not m or not (m[1] or m[3]) or (m[3] and not m[2]):
                raise BadAddress(f"bad study date {self.study_date!r}: want YYYYMMDD or YYYYMMDD-YYYYMMDD")
        if self.modality and not _MODALITY.match(self.modality):
            raise BadAddress(f"bad modality {self.modality!r}: a code such as CR or DX")
        if self.study_uid:
            check_uid(self.study_uid)
        for value in (self.patient_id, self.patient_name, self.accession):
            if "\\" in value:
                raise BadAddress("a backslash cannot be matched in a query")
        return self

    def identifier(self) -> Dataset:
        """The C-FIND identifier at STUDY level: matching keys with values, return keys empty."""
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        for key in RETURN_KEYS:
            setattr(ds, key, "")
        ds.PatientID = self.patient_id
        ds.PatientName = self.patient_name
        ds.StudyDate = self.study_date
        ds.ModalitiesInStudy = self.modality
        ds.AccessionNumber = self.accession
        ds.StudyInstanceUID = self.study_uid
        return ds

    def qido_filters(self) -> dict[str, str]:
        """QIDO-RS search parameters (PS3.18 8.3.4), keyed by DICOM keyword."""
        pairs = {
            "PatientID": self.patient_id,
            "PatientName": self.patient_name,
            "StudyDate": self.study_date,
            "ModalitiesInStudy": self.modality,
            "AccessionNumber": self.accession,
            "StudyInstanceUID": self.study_uid,
        }
        return {k: v for k, v in pairs.items() if v}


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


@dataclass(frozen=True)
class StudyResult:
    """One study as a peer described it."""

    study_uid: str
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    study_date: str = ""
    study_time: str = ""
    description: str = ""
    accession: str = ""
    modalities: tuple[str, ...] = ()
    instances: int | None = None

    @classmethod
    def from_dataset(cls, ds: Dataset) -> StudyResult:
        count = ds.get("NumberOfStudyRelatedInstances")
        try:
            instances = int(count) if count not in (None, "") else None
        except (TypeError, ValueError):
            instances = None
        modalities = tuple(m for m in _text(ds, "ModalitiesInStudy").split("\\") if m)
        return cls(
            study_uid=_text(ds, "StudyInstanceUID"),
            patient_id=_text(ds, "PatientID"),
            patient_name=_text(ds, "PatientName"),
            patient_birth_date=_text(ds, "PatientBirthDate"),
            study_date=_text(ds, "StudyDate"),
            study_time=_text(ds, "StudyTime"),
            description=_text(ds, "StudyDescription"),
            accession=_text(ds, "AccessionNumber"),
            modalities=modalities,
            instances=instances,
        )

    @classmethod
    def from_json(cls, obj: dict) -> StudyResult:
        """A QIDO-RS answer (DICOM JSON, PS3.18 F.2)."""
        return cls.from_dataset(Dataset.from_json(obj))

    def as_json(self) -> dict:
        """The ``--json`` line: DICOM keywords, ``Modalities`` a list."""
        return {
            "StudyInstanceUID": self.study_uid,
            "PatientID": self.patient_id,
            "PatientName": self.patient_name,
            "StudyDate": self.study_date,
            "StudyDescription": self.description,
            "Modalities": list(self.modalities),
            "AccessionNumber": self.accession,
            "NumberOfStudyRelatedInstances": self.instances,
        }
