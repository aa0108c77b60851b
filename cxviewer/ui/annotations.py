"""Corner annotations drawn over the image view: patient, study, window/level, zoom, orientation."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsDropShadowEffect, QGridLayout, QLabel, QWidget

EDGES = ("top", "bottom", "left", "right")


def format_date(value: str) -> str:
    """DICOM DA (YYYYMMDD) as YYYY-MM-DD; anything else unchanged."""
    v = (value or "").strip()
    return f"{v[:4]}-{v[4:6]}-{v[6:8]}" if len(v) == 8 and v.isdigit() else v


def format_name(value: str) -> str:
    return (value or "").replace("^", " ").strip()


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.3g}"


def corner_texts(rad: Any, center: float | None, width: float | None, window_name: str,
                 zoom: float, orientation_text: str, position: str) -> dict[str, str]:
    """Text of the four corners for the radiograph ``rad`` and the current view state."""
    from cxviewer.report.content import shown  # bidi controls escaped: "\u202E1234" never draws as "4321"

    patient = [shown(format_name(rad.patient_name)) or "(no name)"]
    if rad.patient_id:
        patient.append(f"ID {shown(rad.patient_id)}")
    born = " ".join(x for x in (format_date(rad.patient_birth_date), rad.patient_sex) if x)
    if born:
        patient.append(born)
    study = [x for x in (format_date(rad.study_date), shown(rad.study_description)) if x]
    if rad.series_description or rad.series_number is not None:
        series = f"Se {rad.series_number}" if rad.series_number is not None else "Se"
        study.append(" ".join(x for x in (series, rad.series_description) if x))
    if position:
        study.append(position)
    wl = []
    if center is not None and width is not None:
        wl.append(f"W {_number(width)}  L {_number(center)}")
    if window_name:
        wl.append(window_name)
    wl.append(f"Zoom {zoom * 100:.0f}%")
    acq = [" ".join(x for x in (rad.modality, rad.body_part, rad.view_position) if x)]
    if orientation_text:
        acq.append(orientation_text)
    return {
        "top_left": "\n".join(patient),
        "top_right": "\n".join(study),
        "bottom_left": "\n".join(wl),
        "bottom_right": "\n".join(x for x in acq if x),
    }


class CornerAnnotations(QWidget):
    """Transparent, mouse-transparent overlay that covers its parent widget."""

    _ALIGN = {
        "top_left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
        "top_right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
        "bottom_left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
        "bottom_right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
        "top": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
        "bottom": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
        "left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        "right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
    }
    _CELL = {"top_left": (0, 0), "top": (0, 1), "top_right": (0, 2), "left": (1, 0),
             "right": (1, 2), "bottom_left": (2, 0), "bottom": (2, 1), "bottom_right": (2, 2)}

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setObjectName("cornerAnnotations")
        layout = QGridLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setColumnStretch(1, 1)
        layout.setRowStretch(1, 1)
        self.labels: dict[str, QLabel] = {}
        for key, (row, col) in self._CELL.items():
            label = QLabel(self)
            label.setObjectName(f"annotation_{key}")
            label.setAlignment(self._ALIGN[key])
            label.setStyleSheet("color: #f0f0f0; font-size: 12px; background: transparent;")
            if key in EDGES:
                label.setStyleSheet("color: #ffe680; font-size: 15px; font-weight: bold;"
                                    " background: transparent;")
            shadow = QGraphicsDropShadowEffect(label)
            shadow.setBlurRadius(3)
            shadow.setOffset(1, 1)
            shadow.setColor(QColor(0, 0, 0))
            label.setGraphicsEffect(shadow)
            layout.addWidget(label, row, col, self._ALIGN[key])
            self.labels[key] = label
        parent.installEventFilter(self)
        self.setGeometry(parent.rect())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parent().rect())
        return False

    def set_texts(self, texts: dict[str, str]) -> None:
        for key, label in self.labels.items():
            label.setText(texts.get(key, ""))

    def text(self, key: str) -> str:
        return self.labels[key].text()
