"""Build small synthetic DICOM files for the imaging tests (pydicom only, no CXViewer code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid


def lut_item(first_mapped: int, data: list[int] | np.ndarray, bits: int = 16, explanation: str = "", as_ow: bool = False) -> Dataset:
    """A Modality/VOI LUT Sequence item.

    The descriptor is written as US, a negative first mapped value in two's complement (as most
    writers do for signed images); LUT Data as US values, or as OW bytes when ``as_ow``.
    """
    item = Dataset()
    data = [int(v) for v in data]
    item.add_new(0x00283002, "US", [len(data) % 65536, first_mapped & 0xFFFF, bits])  # LUT Descriptor
    if as_ow:
        item.add_new(0x00283006, "OW", np.asarray(data, dtype="<u2").tobytes())  # LUT Data
    else:
        item.add_new(0x00283006, "US", data)
    if explanation:
        item.LUTExplanation = explanation
    return item


def build_dicom(
    path: Path,
    stored: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    file_meta: bool = True,
    pixel_data: bytes | None = None,
    **elements: Any,
) -> Path:
    """Write a single-frame greyscale image; ``elements`` are extra keywords (lists become sequences)."""
    stored = np.asarray(stored)
    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CR"
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = stored.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if stored.dtype.kind == "i" else 0
    for keyword, value in elements.items():
        if isinstance(value, list) and value and isinstance(value[0], Dataset):
            value = Sequence(value)
        setattr(ds, keyword, value)
    ds.PixelData = stored.astype(stored.dtype.newbyteorder("<")).tobytes() if pixel_data is None else pixel_data
    if file_meta:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
    else:  # ACR-NEMA style: no preamble, no meta, implicit VR little endian
        pydicom.dcmwrite(path, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return path
