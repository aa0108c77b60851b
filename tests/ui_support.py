"""Helpers shared by the viewer tests: real data paths, a test image, mouse gestures sent through Qt's
event system, reading back what is on screen. Synthetic DICOM files come from ``dicom_builder``."""

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


def image_paths(model) -> list[Path]:
    """The study browser model's image rows, depth first, in display order (what the reader sees top to bottom)."""
    from PySide6.QtCore import QModelIndex

    from cxviewer.ui.studies.model import PATH_ROLE

    out: list[Path] = []

    def walk(parent) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if index.data(PATH_ROLE):
                out.append(Path(index.data(PATH_ROLE)))
            walk(index)

    walk(QModelIndex())
    return out
