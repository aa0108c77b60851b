"""Real radiographs for the report tests, with header values set for a case (written to tmp only).

The pixels and the rest of the header stay those of the real file in ../shared/data/dicom; only the
identifying values under test are replaced. The heat map is a real computation on the image (local
edge energy, smoothed and scaled to [0, 1]), standing in for Grad-CAM where no model is installed.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

DICOM_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "dicom"
CHEST = DICOM_DIR / "RG1_J2KR.dcm"  # real chest CR, 1955 x 1841, MONOCHROME1
SMALL_CHEST = DICOM_DIR / "CR-MONO1-10-chest.dcm"  # real chest CR, 440 x 440, no file meta

JAPANESE = {
    "SpecificCharacterSet": ["", "ISO 2022 IR 87"],
    "PatientName": "Yamada^Tarou=山田^太郎=やまだ^たろう",
    "PatientID": "JP-000123",
    "PatientBirthDate": "19580412",
    "PatientSex": "M",
    "AccessionNumber": "ACC-98765",
    "StudyDate": "20240131",
    "StudyTime": "101500",
    "StudyDescription": "Thorax PA",
}


def dicom_copy(tmp: Path, source: Path = SMALL_CHEST, name: str = "case.dcm", **values) -> Path:
    """A copy of a real DICOM file with some header values replaced (never touches ../shared);
    skips the test when ../shared is absent."""
    if not Path(source).is_file():
        pytest.skip(f"shared test data not found: {source}")
    ds = pydicom.dcmread(source, force=True)
    if not hasattr(ds, "file_meta") or "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.get("SOPClassUID", "1.2.840.10008.5.1.4.1.1.1")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID", pydicom.uid.generate_uid())
    for key, value in values.items():
        setattr(ds, key, value)
    out = Path(tmp) / name
    ds.save_as(out, enforce_file_format=True)
    return out


def edge_energy_map(display_u8: np.ndarray) -> np.ndarray:
    """A real float map in [0, 1] on the image grid: smoothed gradient magnitude of the display."""
    img = display_u8.astype(np.float32)
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    energy = cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), sigmaX=max(2.0, display_u8.shape[1] / 25))
    energy -= energy.min()
    return (energy / max(float(energy.max()), 1e-6)).astype(np.float32)
