"""Distance measurement: the maths (in image pixels and mm) and the line drawn on the image.

Points are image coordinates (x = column, y = row, in pixels). Lengths use the Pixel Spacing
(row spacing = vertical mm per pixel, column spacing = horizontal mm per pixel); when the spacing is
unknown the length is given in pixels and says so.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem

MEASUREMENT_Z = 20  # above the image and the AI heat map


def distance(p0: tuple[float, float], p1: tuple[float, float],
             pixel_spacing: tuple[float, float] | None) -> tuple[float, str]:
    """Length between two image points: (value, "mm") with a spacing, else (value, "px")."""
    dx = p1[0] - p0[0]
    dy = p1[1] - p0[1]
    if pixel_spacing:
        row_mm, col_mm = pixel_spacing
        return math.hypot(dx * col_mm, dy * row_mm), "mm"
    return math.hypot(dx, dy), "px"


def format_distance(value: float, unit: str) -> str:
    return f"{value:.1f} mm" if unit == "mm" else f"{value:.1f} px (no pixel spacing)"


class MeasurementItem:
    """A measured line and its label, drawn as children of the image item (so they follow zoom,
    pan, rotation and flips); the label stays upright and the same size on screen."""

    def __init__(self, parent: QGraphicsItem, p0: QPointF, pixel_spacing, color: str = "#ffd400"):
        self.pixel_spacing = pixel_spacing
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
        self.label.setPos(self.p1)

    def length(self) -> tuple[float, str]:
        return distance((self.p0.x(), self.p0.y()), (self.p1.x(), self.p1.y()), self.pixel_spacing)

    def text(self) -> str:
        return format_distance(*self.length())

    def remove(self) -> None:
        for item in (self.line, self.label):
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)
            item.setParentItem(None)
