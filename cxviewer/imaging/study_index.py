"""Group radiographs into patient -> study -> series -> instance, as a PACS browser does.

DICOM files group by Patient ID (+ name), Study and Series Instance UIDs; instances are ordered by
Instance Number. A plain image file (PNG, JPEG...) is a patient and study of its own. Files that
failed to read are kept in ``errors`` so a browser can list them with their reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cxviewer.imaging.errors import UnreadableImageError
from cxviewer.imaging.radiograph import Radiograph


@dataclass(eq=False)
class Series:
    key: tuple
    series_uid: str
    number: int | None
    description: str
    modality: str
    instances: list[Radiograph] = field(default_factory=list)

    @property
    def label(self) -> str:
        parts = [f"Series {self.number}" if self.number is not None else "Series", self.modality, self.description]
        return " ".join(p for p in parts if p)


@dataclass(eq=False)
class Study:
    key: tuple
    study_uid: str
    date: str
    time: str
    description: str
    accession_number: str
    series: list[Series] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.date, self.description) if p) or "Study"


@dataclass(eq=False)
class Patient:
    key: tuple
    patient_id: str
    name: str
    birth_date: str
    sex: str
    studies: list[Study] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.key[0] == "file":
            return f"Image file {Path(self.key[1]).name}"
        return " ".join(p for p in (self.name, f"({self.patient_id})" if self.patient_id else "") if p) or "Unknown patient"


def _path_key(path: Path) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def _keys(rad: Radiograph) -> tuple[tuple, tuple, tuple]:
    where = _path_key(rad.path)
    if rad.source_format != "DICOM":
        own = ("file", where)
        return own, own, own
    patient = ("dicom", rad.patient_id, rad.patient_name)
    study = ("study", rad.study_uid) if rad.study_uid else ("file", where)
    series = (*study, "series", rad.series_uid) if rad.series_uid else (*study, "file", where)
    return patient, study, series


def _instance_order(rad: Radiograph) -> tuple:
    return (rad.instance_number is None, rad.instance_number or 0, str(rad.path))


class StudyIndex:
    """Patient -> study -> series -> instance tree of the radiographs added so far."""

    def __init__(self) -> None:
        self.patients: list[Patient] = []
        self.errors: list[UnreadableImageError] = []
        self._by_path: dict[str, Radiograph] = {}

    def add(self, *items: Radiograph | UnreadableImageError) -> None:
        """Add radiographs (or read errors). Adding a file again replaces its earlier entry."""
        for item in items:
            if isinstance(item, UnreadableImageError):
                self.errors.append(item)
            elif isinstance(item, Radiograph):
                self._add(item)
            else:
                raise TypeError(f"StudyIndex.add expects Radiograph or UnreadableImageError, not {type(item).__name__}")

    def _add(self, rad: Radiograph) -> None:
        where = _path_key(rad.path)
        if where in self._by_path:
            self.remove(rad.path)
        self._by_path[where] = rad
        patient_key, study_key, series_key = _keys(rad)
        patient = next((p for p in self.patients if p.key == patient_key), None)
        if patient is None:
            patient = Patient(patient_key, rad.patient_id, rad.patient_name, rad.patient_birth_date, rad.patient_sex)
            self.patients.append(patient)
        study = next((s for s in patient.studies if s.key == study_key), None)
        if study is None:
            study = Study(study_key, rad.study_uid, rad.study_date, rad.study_time, rad.study_description, rad.accession_number)
            patient.studies.append(study)
            patient.studies.sort(key=lambda s: (s.date, s.time, s.description, s.key))
        series = next((s for s in study.series if s.key == series_key), None)
        if series is None:
            series = Series(series_key, rad.series_uid, rad.series_number, rad.series_description, rad.modality)
            study.series.append(series)
            study.series.sort(key=lambda s: (s.number is None, s.number or 0, s.key))
        series.instances.append(rad)
        series.instances.sort(key=_instance_order)

    def remove(self, path: str | Path) -> None:
        """Forget one file (no-op when it is not in the index)."""
        rad = self._by_path.pop(_path_key(Path(path)), None)
        if rad is None:
            return
        for patient in self.patients:
            for study in patient.studies:
                for series in study.series:
                    series.instances = [r for r in series.instances if r is not rad]
                study.series = [s for s in study.series if s.instances]
            patient.studies = [s for s in patient.studies if s.series]
        self.patients = [p for p in self.patients if p.studies]

    def instances(self) -> list[Radiograph]:
        """Every radiograph in tree order."""
        return [r for p in self.patients for st in p.studies for se in st.series for r in se.instances]

    def __len__(self) -> int:
        return len(self._by_path)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, (str, Path)) and _path_key(Path(path)) in self._by_path
