"""How opened files group into patient -> study -> series, the one rule the study browser draws (Qt-free).

* Patient: Patient ID qualified by Issuer of Patient ID (0010,0021), as PACS do: an ID is unique only
  within its issuer, and one person's name is often written differently from file to file (with or
  without its ideographic group, say). A file without a Patient ID is grouped by the patient's name.
* Study: Study Instance UID, keyed under its patient, so one UID reused for two patients (it happens
  in anonymised sets) never mixes their images; without a UID, the file's folder.
* Series: Series Instance UID under its study; without one, the folder and the source format (so
  PNG and JPEG files in one folder still form a sensible series, not one flat list).

``item`` is anything with those attributes: a Radiograph, or the browser's ImageEntry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def patient_key(patient_id: str, issuer: str, patient_name: str) -> tuple:
    patient_id = (patient_id or "").strip()
    if patient_id:
        return ("id", (issuer or "").strip(), patient_id)
    return ("name", (patient_name or "").strip())


def same_patient(id_a: str, issuer_a: str, id_b: str, issuer_b: str) -> bool:
    """Whether two films are known to be one patient: the same Patient ID under the same issuer
    (both without one counts as the same). Unlike grouping, a name alone never matches: a prior
    shown beside the wrong patient's film is worse than no prior."""
    key_a = patient_key(id_a, issuer_a, "")
    return key_a[0] == "id" and key_a == patient_key(id_b, issuer_b, "")


def grouping_keys(item: Any) -> tuple[tuple, tuple, tuple]:
    """(patient, study, series) keys of ``item``; each key contains its parent's."""
    folder = str(Path(item.path).parent)
    patient = patient_key(item.patient_id, getattr(item, "patient_issuer", ""), item.patient_name)
    study = (*patient, item.study_uid or f"folder:{folder}")
    series = (*study, item.series_uid or f"folder:{folder}:{item.source_format}")
    return patient, study, series
