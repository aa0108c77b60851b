"""Header-only questions about a DICOM file that the scan asks before (or instead of) decoding it."""

from __future__ import annotations

import os
from pathlib import Path

from pydicom.uid import UID

from cxviewer.imaging.deflate import dcmread_bounded
from cxviewer.imaging.reader import not_a_regular_file

# Header elements a real image data set has; a forced read must find at least one of them.
_PLAUSIBLE_TAGS = ("SOPClassUID", "Modality", "Rows", "Columns", "PatientID", "StudyInstanceUID")
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def plausible_dataset(path: str | os.PathLike) -> bool:
    """A data set without preamble is only believed when a forced header read finds real image elements."""
    try:
        ds = dcmread_bounded(Path(path), stop_before_pixels=True, defer_size=256)
        return any(tag in ds for tag in _PLAUSIBLE_TAGS)
    except Exception:  # noqa: BLE001 - any parse failure means "not a data set we recognise"
        return False


def is_non_image_object(path: str | os.PathLike) -> bool:
    """A well-formed DICOM object of a class that has no pixels (SR, DICOMDIR, KOS...), not a damaged image."""
    if not_a_regular_file(Path(path)):
        return False
    try:
        ds = dcmread_bounded(Path(path), defer_size=1024)
        sop = str(ds.get("SOPClassUID", "") or ds.file_meta.get("MediaStorageSOPClassUID", "") or "")
    except Exception:  # noqa: BLE001 - a header pydicom cannot parse is not a well-formed object
        return False
    if not sop or any(k in ds for k in _PIXEL_KEYWORDS):
        return False
    name = UID(sop).name
    return name != sop and "Image" not in name  # a registered class that is not an image class
