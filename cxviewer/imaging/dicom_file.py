"""A DICOM file's header as a pydicom data set, for code that sends or cites the file (PACS, SR)."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from cxviewer.imaging.errors import UnreadableImageError
from cxviewer.imaging.sniff import DICOM, HEAD_BYTES, sniff


def is_dicom_file(path: Path) -> bool:
    """True when the first bytes say DICOM (never the file name)."""
    try:
        with open(path, "rb") as fh:
            return sniff(fh.read(HEAD_BYTES)) == DICOM
    except OSError:
        return False


def read_header(path: str | Path) -> Dataset:
    """The data set without its pixel data; raises UnreadableImageError for anything else."""
    path = Path(path)
    if not is_dicom_file(path):
        raise UnreadableImageError("Not a DICOM file.", path)
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, force=True)
    except Exception as exc:  # pydicom raises many types for damaged files
        raise UnreadableImageError(f"The DICOM header is damaged and cannot be read ({type(exc).__name__}: {exc}).", path) from exc


def read_dataset(path: str | Path) -> Dataset:
    """The whole data set, pixel data included, undecoded (to send it on as it is)."""
    path = Path(path)
    if not is_dicom_file(path):
        raise UnreadableImageError("Not a DICOM file.", path)
    try:
        return pydicom.dcmread(path, force=True)
    except Exception as exc:
        raise UnreadableImageError(f"The DICOM file is damaged and cannot be read ({type(exc).__name__}: {exc}).", path) from exc
