"""Helpers shared by the viewer tests (no tests here): synthetic DICOM files, real data paths,
mouse gestures sent through Qt's event system, reading back what is on screen."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

DICOM_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dicom"


def real_dicom(name: str) -> Path:
    path = DICOM_DIR / name
    if not path.exists():
        pytest.skip(f"shared test data not found: {path}")
    return path


def write_dicom(path: Path, pixels: np.ndarray, *, spacing: tuple[float, float] | None = (0.5, 0.25),
                photometric: str = "MONOCHROME2", windows: list[tuple[float, float, str]] | None = None,
                orientation: tuple[str, str] | None = ("L", "F"), patient: str = "Synthetic^Test",
                patient_id: str = "SYN1", instance: int = 1, series_uid: str | None = None,
                study_uid: str | None = None) -> Path:
    """Write a small, valid CR DICOM (explicit VR little endian) with the given pixels."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    cr = "1.2.840.10008.5.1.4.1.1.1"
    sop = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = cr
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = cr, sop
    ds.PatientName, ds.PatientID = patient, patient_id
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.StudyDate, ds.StudyDescription = "20240131", "SYNTHETIC CHEST"
    ds.SeriesNumber, ds.InstanceNumber = 1, instance
    ds.Modality, ds.BodyPartExamined = "CR", "CHEST"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    bits = max(12, int(pixels.max()).bit_length())
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits, bits - 1, 0
    if spacing is not None:
        ds.PixelSpacing = [f"{spacing[0]:g}", f"{spacing[1]:g}"]
    if orientation is not None:
        ds.PatientOrientation = list(orientation)
    if windows:
        ds.WindowCenter = [f"{c:g}" for c, _, _ in windows]
        ds.WindowWidth = [f"{w:g}" for _, w, _ in windows]
        ds.WindowCenterWidthExplanation = [e for _, _, e in windows]
    ds.PixelData = np.ascontiguousarray(pixels, dtype=np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def quadrant_image(rows: int = 160, cols: int = 240) -> np.ndarray:
    """Dark image with a bright top-left quadrant: shows where the image's top-left corner went."""
    img = np.full((rows, cols), 100, np.uint16)
    img[: rows // 2, : cols // 2] = 4000
    return img


def send_mouse(widget, kind, pos, button, buttons, modifiers=None):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    local = QPointF(pos)
    ev = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(local)), button, buttons,
                     modifiers or Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def mouse_drag(widget, start, end, button, steps: int = 6) -> None:
    """Press at ``start``, move in steps to ``end``, release: a real drag through Qt and pyqtgraph."""
    from PySide6.QtCore import QEvent, QPointF, Qt

    start, end = QPointF(start), QPointF(end)
    send_mouse(widget, QEvent.Type.MouseButtonPress, start, button, button)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        send_mouse(widget, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, button)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton)


def widget_gray(widget) -> np.ndarray:
    """What ``widget`` shows now, as a 2-D uint8 grey array."""
    from PySide6.QtGui import QImage

    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)[:, :w].copy()
