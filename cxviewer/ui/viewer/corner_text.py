"""Corner annotations drawn over the image view: patient, study, window/level, zoom, orientation."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsDropShadowEffect, QGridLayout, QLabel, QWidget

from cxviewer.imaging.dicom_values import format_age, format_date, format_person_name, format_sex, format_time, shown
from cxviewer.imaging.spacing import MeasurementScale, scale_for_radiograph

EDGES = ("top", "bottom", "left", "right")
PLATE = "background: rgba(0, 0, 0, 170); border-radius: 3px; padding: 1px 4px;"


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.3g}"


def acquisition_text(rad: Any) -> str:
    """When the film was taken (imaging reads it from the header): the time alone on the study's day."""
    tm = format_time(getattr(rad, "acquisition_time", ""))
    if not tm:
        return ""
    da = getattr(rad, "acquisition_date", "")
    return tm if not da or da == rad.study_date else f"{format_date(da)} {tm}"


def matrix_text(rad: Any, scale: MeasurementScale | None = None) -> str:
    """Matrix (columns x rows) and the spacing lengths are measured with, and its kind:
    "1760 x 2140 px, 0.2 x 0.2 mm at detector" (row x column; ``scale``: the view's, else the header's)."""
    rows, cols = rad.pixels.shape[:2]
    text = f"{cols} x {rows} px"
    scale = scale or scale_for_radiograph(rad)
    if scale.row_mm is not None and scale.col_mm is not None:
        text += f", {_number(scale.row_mm)} x {_number(scale.col_mm)} {scale.unit_label}"
    return text


def corner_texts(rad: Any, center: float | None, width: float | None, window_name: str,
                 zoom: float, orientation_text: str, position: str, inverted: bool = False,
                 scale: MeasurementScale | None = None) -> dict[str, str]:
    """Text of the four corners for the radiograph ``rad`` and the current view state (``scale``: the one
    lengths are measured with, the reader's calibration included)."""
    # names, dates, sex and age as the study browser and the report write them (imaging.dicom_values);
    # identifiers through shown(): bidi controls escaped, "\u202E1234" never draws as "4321"
    patient = [shown(format_person_name(rad.patient_name)) or "(no name)"]
    if rad.patient_id:
        patient.append(f"ID {shown(rad.patient_id)}")
    born = " ".join(x for x in (format_date(rad.patient_birth_date), format_sex(rad.patient_sex),
                                format_age(getattr(rad, "patient_age", ""))) if x)
    if born:
        patient.append(born)
    study = [x for x in (format_date(rad.study_date), shown(rad.study_description)) if x]
    if rad.series_description or rad.series_number is not None:
        series = f"Se {rad.series_number}" if rad.series_number is not None else "Se"
        study.append(" ".join(x for x in (series, rad.series_description) if x))
    acquired = acquisition_text(rad)
    if acquired:
        study.append(f"Acq {acquired}")
    if position:
        study.append(position)
    wl = []
    if center is not None and width is not None:
        wl.append(f"W {_number(width)}  L {_number(center)}")
    if window_name:
        wl.append(window_name)
    if inverted:
        wl.append("Inverted")
    wl.append(f"Zoom {zoom * 100:.0f}%")
    acq = [" ".join(x for x in (rad.modality, rad.body_part, rad.view_position) if x), matrix_text(rad, scale)]
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
            # a dark plate behind the text: readable on a bright film too ("Im 1/3", not "m 1/3")
            label.setStyleSheet(f"color: #f0f0f0; font-size: 12px; {PLATE}")
            if key in EDGES:
                label.setStyleSheet(f"color: #ffe680; font-size: 15px; font-weight: bold; {PLATE}")
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
            label.setVisible(bool(label.text()))  # no empty plate

    def text(self, key: str) -> str:
        return self.labels[key].text()
