"""What a DICOM header says beyond the pixels: identifiers, spacing and VOI presets."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from cxviewer.imaging.dicom_luts import read_lut
from cxviewer.imaging.modality import output_can_be_negative
from cxviewer.imaging.radiograph import VoiPreset

log = logging.getLogger(__name__)

_TEXT_FIELDS = {
    "patient_name": "PatientName",
    "patient_id": "PatientID",
    "patient_issuer": "IssuerOfPatientID",
    "patient_birth_date": "PatientBirthDate",
    "patient_sex": "PatientSex",
    "patient_age": "PatientAge",
    "accession_number": "AccessionNumber",
    "study_uid": "StudyInstanceUID",
    "series_uid": "SeriesInstanceUID",
    "sop_uid": "SOPInstanceUID",
    "study_date": "StudyDate",
    "study_time": "StudyTime",
    "study_description": "StudyDescription",
    "series_description": "SeriesDescription",
    "modality": "Modality",
    "body_part": "BodyPartExamined",
    "view_position": "ViewPosition",
    "referring_physician": "ReferringPhysicianName",
}
_INT_FIELDS = {"series_number": "SeriesNumber", "instance_number": "InstanceNumber"}


def _values(value: Any) -> list[Any]:
    """A DICOM value as a list (multi-valued elements are sequences, single values are not)."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]


def _text(ds: Dataset, keyword: str) -> str:
    try:
        value = ds.get(keyword)
    except Exception:  # an undecodable value must not stop the image from opening
        return ""
    return "\\".join(str(v) for v in _values(value)).strip()


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        return int(float(str(ds.get(keyword))))
    except (TypeError, ValueError):
        return None


def _floats(ds: Dataset, keyword: str) -> list[float | None]:
    out: list[float | None] = []
    try:
        values = _values(ds.get(keyword))
    except Exception:
        return out
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        out.append(number if number is not None and math.isfinite(number) else None)
    return out


def metadata(ds: Dataset) -> dict[str, Any]:
    """Identifiers and descriptions for the Radiograph ("" / None when absent)."""
    fields: dict[str, Any] = {name: _text(ds, keyword) for name, keyword in _TEXT_FIELDS.items()}
    fields.update({name: _int(ds, keyword) for name, keyword in _INT_FIELDS.items()})
    fields["acquisition_date"], fields["acquisition_time"] = acquisition_date_time(ds)
    return fields


def acquisition_date_time(ds: Dataset) -> tuple[str, str]:
    """When the film was taken, as DICOM (DA, TM): Acquisition DateTime, else Acquisition Date and Time,
    else Content Date and Time (the image's creation); ("", "") when the header says none of them."""
    dt = _text(ds, "AcquisitionDateTime")
    if len(dt) >= 12 and dt[:12].isdigit():
        return dt[:8], dt[8:14]
    for date_key, time_key in (("AcquisitionDate", "AcquisitionTime"), ("ContentDate", "ContentTime")):
        tm = _text(ds, time_key)
        if tm:
            return _text(ds, date_key), tm
    return "", ""


def header_text(ds: Any, keyword: str) -> str:
    """A header value as text; "" when absent or undecodable (it must not stop the image from opening)."""
    return _text(ds, keyword)


def positive_numbers(ds: Any, keyword: str, count: int) -> tuple[float, ...] | None:
    """Exactly ``count`` finite positive numbers from ``keyword``; None when absent, odd or undecodable."""
    values = _floats(ds, keyword)
    if len(values) != count or not all(v is not None and v > 0 for v in values):
        return None
    return tuple(v for v in values if v is not None)


def pixel_spacing(ds: Dataset) -> tuple[float, float] | None:
    """(row, column) spacing in mm from Pixel Spacing, else Imager Pixel Spacing; None if unknown."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        values = positive_numbers(ds, keyword, 2)
        if values is not None:
            return values[0], values[1]
    return None


def voi_function(ds: Dataset) -> str:
    value = _text(ds, "VOILUTFunction").upper()
    return value if value in ("LINEAR", "LINEAR_EXACT", "SIGMOID") else "LINEAR"


def voi_presets(ds: Dataset, path: Path | None = None) -> list[VoiPreset]:
    """Every window (in header order) and then every VOI LUT Sequence item the header offers.

    Windows with a missing or non-positive width are skipped (and logged), as is a VOI LUT item
    whose descriptor and data disagree.
    """
    function = voi_function(ds)
    centers, widths = _floats(ds, "WindowCenter"), _floats(ds, "WindowWidth")
    explanations = _text(ds, "WindowCenterWidthExplanation").split("\\")
    presets: list[VoiPreset] = []
    for i, (center, width) in enumerate(zip(centers, widths)):
        if center is None or width is None or width <= 0 or (function == "LINEAR" and width < 1):
            log.warning("%s: skipping window %d with centre %r, width %r", path, i + 1, center, width)
            continue
        explanation = explanations[i].strip() if i < len(explanations) else ""
        presets.append(
            VoiPreset(
                name=explanation or f"Header window {i + 1}",
                center=center,
                width=width,
                function=function,
                explanation=explanation,
            )
        )
    signed = output_can_be_negative(ds)  # the VOI LUT maps modality values, not stored ones
    little_endian = ds.original_encoding[1] is not False
    for i, item in enumerate(ds.get("VOILUTSequence") or []):
        try:
            table = read_lut(item, signed_input=signed, little_endian=little_endian)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.warning("%s: skipping VOI LUT %d: %s", path, i + 1, exc)
            continue
        explanation = _text(item, "LUTExplanation")
        presets.append(
            VoiPreset(
                name=explanation or f"Header VOI LUT {i + 1}",
                center=table.first_mapped + len(table.data) / 2,
                width=float(len(table.data)),
                function="LUT",
                lut=table.data,
                lut_first_mapped=table.first_mapped,
                explanation=explanation,
                lut_bits=table.bits,
            )
        )
    return presets
