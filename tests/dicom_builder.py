"""The one builder of synthetic DICOM files for the tests (pydicom only, no CXViewer code).

``build_dicom`` writes any single-frame greyscale image (or, with ``stored=None``, an object
without pixels); ``chest_cr`` is the viewer tests' usual CR film with patient, spacing and windows.
Malformed files a test needs (missing pixel elements, odd transfer syntaxes) start from its output.
"""

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
    stored: np.ndarray | None,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    file_meta: bool = True,
    pixel_data: bytes | None = None,
    sop_class: str = SecondaryCaptureImageStorage,
    modality: str = "CR",
    **elements: Any,
) -> Path:
    """Write a single-frame greyscale image; ``elements`` are extra keywords (lists become sequences).

    ``stored=None`` writes no image pixel module (a report, a presentation state)."""
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    if stored is not None:
        stored = np.asarray(stored)
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
    if stored is not None:
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


CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"


def chest_cr(path: Path, pixels: np.ndarray, *, spacing: tuple[float, float] | None = (0.5, 0.25),
             photometric: str = "MONOCHROME2", windows: list[tuple[float, float, str]] | None = None,
             orientation: tuple[str, str] | None = ("L", "F"), patient: str = "Synthetic^Test",
             patient_id: str = "SYN1", instance: int = 1, series_uid: str | None = None,
             study_uid: str | None = None) -> Path:
    """A small, valid chest CR (explicit VR little endian, 16-bit, at least 12 bits stored) with the given pixels."""
    elements: dict[str, Any] = {
        "PatientName": patient, "PatientID": patient_id,
        "StudyDate": "20240131", "StudyDescription": "SYNTHETIC CHEST",
        "SeriesNumber": 1, "InstanceNumber": instance, "BodyPartExamined": "CHEST",
    }
    if study_uid:
        elements["StudyInstanceUID"] = study_uid
    if series_uid:
        elements["SeriesInstanceUID"] = series_uid
    if spacing is not None:
        elements["PixelSpacing"] = [f"{spacing[0]:g}", f"{spacing[1]:g}"]
    if orientation is not None:
        elements["PatientOrientation"] = list(orientation)
    if windows:
        elements["WindowCenter"] = [f"{c:g}" for c, _, _ in windows]
        elements["WindowWidth"] = [f"{w:g}" for _, w, _ in windows]
        elements["WindowCenterWidthExplanation"] = [e for _, _, e in windows]
    bits = max(12, int(pixels.max()).bit_length())
    return build_dicom(path, np.ascontiguousarray(pixels, dtype=np.uint16), photometric=photometric,
                       bits_stored=bits, sop_class=CR_IMAGE_STORAGE, **elements)
