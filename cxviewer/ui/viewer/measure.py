"""Distance measurement: the line drawn on the image and its label.

Points are image coordinates (x = column, y = row, in pixels). Lengths use the film's
``MeasurementScale`` (cxviewer.imaging.spacing): Pixel Spacing vs Imager Pixel Spacing, the
magnification factor, a calibration in the header or by the reader. The label says which
("mm at detector", "mm calibrated", "mm magnification-corrected", "px").
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem

from cxviewer.imaging.spacing import NO_SPACING, MeasurementScale

MEASUREMENT_Z = 20  # above the image and the AI heat map


def distance(p0: tuple[float, float], p1: tuple[float, float],
             scale: MeasurementScale | None) -> tuple[float, str]:
    """Length between two image points: (value, "mm") with a spacing, else (value, "px")."""
    scale = scale or NO_SPACING
    return scale.length(p0, p1), scale.short_unit


def format_distance(value: float, scale: MeasurementScale | None) -> str:
    scale = scale or NO_SPACING
    text = scale.format_length(value)
    return text if scale.in_mm else f"{text} (no pixel spacing)"


class MeasurementItem:
    """A measured line and its label, drawn as children of the image item (so they follow zoom,
    pan, rotation and flips); the label stays upright and the same size on screen."""

    def __init__(self, parent: QGraphicsItem, p0: QPointF, scale: MeasurementScale | None,
                 color: str = "#ffd400"):
        self.scale = scale or NO_SPACING
        pen = QPen(QColor(color))
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.line = QGraphicsLineItem(parent)
        self.line.setPen(pen)
        self.line.setZValue(MEASUREMENT_Z)
        self.label = pg.TextItem(color=color, fill=pg.mkBrush(0, 0, 0, 160), anchor=(0, 1))
        self.label.setParentItem(parent)
        self.label.setZValue(MEASUREMENT_Z)
        self.p0 = QPointF(p0)
        self.p1 = QPointF(p0)
        self.set_end(p0)

    def set_end(self, p1: QPointF) -> None:
        self.p1 = QPointF(p1)
        self.line.setLine(QLineF(self.p0, self.p1))
        self.label.setText(self.text())
        self.label.setToolTip(self.scale.explanation)
        self.label.setPos(self.p1)

    def length(self) -> tuple[float, str]:
        return distance((self.p0.x(), self.p0.y()), (self.p1.x(), self.p1.y()), self.scale)

    def text(self) -> str:
        return format_distance(self.length()[0], self.scale)

    def remove(self) -> None:
        for item in (self.line, self.label):
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)
            item.setParentItem(None)
