"""The report's header (Qt-free): patient and study identification as read from the radiograph,
the rows people read, the Technique prefill, and the study a report belongs to.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from cxviewer.imaging.dicom_values import format_date, format_person_name, format_sex, format_time, shown
from cxviewer.report.redaction import date_spellings

ANONYMISED = "anonymised"

_MODALITY = {"CR": "Computed radiography", "DX": "Digital radiography", "RG": "Radiographic imaging"}


@dataclass
class ReportHeader:
    """Patient and study identification as read from the file (DICOM value formats kept raw)."""

    patient_name: str = ""  # DICOM PN, e.g. "YAMADA^TARO=山田^太郎"
    patient_id: str = ""
    birth_date: str = ""  # DICOM DA "YYYYMMDD"
    sex: str = ""
    accession_number: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    series_description: str = ""
    view_position: str = ""
    modality: str = ""
    body_part: str = ""
    study_uid: str = ""
    series_uid: str = ""
    sop_uid: str = ""
    source_name: str = ""  # file name only (never a path); may itself carry a name, so it is identifying
    source_format: str = ""
    referring_physician: str = ""  # DICOM PN (0008,0090); emptied by the Basic Profile

    # fields that identify the patient or the examination and are dropped by an anonymised export
    IDENTIFYING = ("patient_name", "patient_id", "birth_date", "accession_number",
                   "study_uid", "series_uid", "sop_uid", "source_name", "referring_physician")

    @classmethod
    def from_radiograph(cls, rad: Any) -> ReportHeader:
        def text(name: str) -> str:
            value = getattr(rad, name, "")
            return "" if value is None else str(value).strip()

        path = getattr(rad, "path", None)
        return cls(
            patient_name=text("patient_name"),
            patient_id=text("patient_id"),
            birth_date=text("patient_birth_date"),
            sex=text("patient_sex"),
            accession_number=text("accession_number"),
            study_date=text("study_date"),
            study_time=text("study_time"),
            study_description=text("study_description"),
            series_description=text("series_description"),
            view_position=text("view_position"),
            modality=text("modality"),
            body_part=text("body_part"),
            study_uid=text("study_uid"),
            series_uid=text("series_uid"),
            sop_uid=text("sop_uid"),
            source_name=Path(path).name if path else "",
            source_format=text("source_format"),
            referring_physician=text("referring_physician"),
        )

    @classmethod
    def from_dict(cls, data: dict) -> ReportHeader:
        names = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in (data or {}).items() if k in names and v is not None})

    # emptied as well by the Basic Profile (Table E.1-1 actions Z/X); dates only without keep_dates
    PROFILE_EMPTIED = ("sex", "study_description", "series_description")
    DATES = ("study_date", "study_time")

    def anonymised(self, keep_dates: bool = False) -> ReportHeader:
        out = copy.copy(self)
        for name in self.IDENTIFYING + self.PROFILE_EMPTIED + (() if keep_dates else self.DATES):
            setattr(out, name, "")
        return out

    def display_rows(self, anonymise: bool = False, keep_dates: bool = False) -> list[tuple[str, str]]:
        """(label, value) pairs for the patient and study table, formatted for people; identifiers
        with invisible format characters escaped (``shown``)."""
        hidden = ANONYMISED if anonymise else None
        hidden_date = None if keep_dates else hidden
        return [
            ("Patient name", hidden or shown(format_person_name(self.patient_name))),
            ("Patient ID", hidden or shown(self.patient_id)),
            ("Birth date", hidden or shown(format_date(self.birth_date))),
            ("Sex", hidden or shown(format_sex(self.sex))),
            ("Accession number", hidden or shown(self.accession_number)),
            ("Study date", hidden_date or shown(" ".join(x for x in (format_date(self.study_date),
                                                                    format_time(self.study_time)) if x))),
            ("Study description", hidden or shown(self.study_description)),
            ("Referring physician", hidden or shown(format_person_name(self.referring_physician))),
            ("View position", shown(self.view_position)),
            ("Modality", shown(self.modality)),
            ("Body part", shown(self.body_part)),
        ]

    def identifiers(self) -> list[str]:
        """Every identifying string (whole values, name components, date spellings) for redaction."""
        values: list[str] = []
        for name in ("patient_id", "accession_number", "study_uid", "series_uid", "sop_uid", "source_name"):
            values.append(getattr(self, name))
        if self.source_name:
            values.append(Path(self.source_name).stem)
        for person in (self.patient_name, self.referring_physician):  # the header blanks both; so does the text
            values += [person, format_person_name(person)]
            values += re.split(r"[\^=]", person)
        values += date_spellings(self.birth_date)
        # a component of one character (an initial) would redact half the report
        out = {v.strip() for v in values if v and len(v.strip()) >= 2}
        return sorted(out, key=len, reverse=True)


def technique_text(header: ReportHeader) -> str:
    """Prefill for the Technique section, built only from what the header says."""
    modality = _MODALITY.get(header.modality.upper(), header.modality)
    if modality and header.modality and modality != header.modality:
        modality = f"{modality} ({header.modality})"
    parts = []
    body = header.body_part.strip().lower()
    what = " ".join(x for x in (body, "radiograph") if x) if (modality or body) else ""
    if modality:
        parts.append(f"{modality}, {what}" if what else modality)
    elif what:
        parts.append(what.capitalize())
    if header.view_position:
        parts.append(f"{header.view_position} projection")
    if header.source_format and header.source_format != "DICOM":
        parts.append(f"source image {header.source_format} (no DICOM header)")
    return (", ".join(parts) + ".") if parts else ""


def study_key_for(rad: Any) -> str:
    """Identity of the study a report belongs to: the Study Instance UID, else the file itself."""
    uid = str(getattr(rad, "study_uid", "") or "").strip()
    if uid:
        return f"study:{uid}"
    path = getattr(rad, "path", None)
    resolved = str(Path(path).resolve()) if path else ""
    return "file:" + hashlib.sha256(resolved.encode("utf-8", "surrogatepass")).hexdigest()
