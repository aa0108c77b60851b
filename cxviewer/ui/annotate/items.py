"""How one annotation looks on the image: its outline (a path in image pixels, drawn with a
cosmetic pen so it keeps its width at any zoom) and its label (upright, same size on screen).

Both are children of the image view's overlay parent, so they follow zoom, pan, rotation and flips.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from cxviewer.annotate.model import Annotation

ANNOTATION_Z = 21  # above the image, the AI heat map and the old distance lines
NORMAL_COLOR = "#ffd400"
SELECTED_COLOR = "#40e0ff"
PREVIEW_COLOR = "#ff9a3c"


def annotation_path(a: Annotation) -> QPainterPath:
    """The outline of ``a`` in image pixel coordinates."""
    path = QPainterPath()
    pts = [QPointF(x, y) for x, y in a.points]
    if a.kind == "distance":
        path.moveTo(pts[0])
        path.lineTo(pts[1])
        _ticks(path, a.points[0], a.points[1])
    elif a.kind == "arrow":
        path.moveTo(pts[0])
        path.lineTo(pts[1])
        _arrow_head(path, a.points[0], a.points[1])
    elif a.kind == "angle":
        path.moveTo(pts[0])
        path.lineTo(pts[1])
        path.lineTo(pts[2])
    elif a.kind == "ellipse":
        path.addEllipse(QRectF(pts[0], pts[1]).normalized())
    elif a.kind == "ctr":
        for p, q in ((a.points[0], a.points[1]), (a.points[2], a.points[3])):
            # each diameter is horizontal: drawn at its first point's row
            path.moveTo(QPointF(p[0], p[1]))
            path.lineTo(QPointF(q[0], p[1]))
            _ticks(path, p, (q[0], p[1]))
    return path


def _ticks(path: QPainterPath, p, q) -> None:
    """Short end marks across a line, so where it stops is plain."""
    length = math.dist(p, q)
    if length == 0:
        return
    half = max(4.0, 0.03 * length)
    nx, ny = -(q[1] - p[1]) / length * half, (q[0] - p[0]) / length * half
    for x, y in (p, q):
        path.moveTo(QPointF(x - nx, y - ny))
        path.lineTo(QPointF(x + nx, y + ny))


def _arrow_head(path: QPainterPath, tail, head) -> None:
    length = math.dist(tail, head)
    if length == 0:
        return
    size = max(8.0, 0.12 * length)
    ux, uy = (head[0] - tail[0]) / length, (head[1] - tail[1]) / length
    for turn in (0.45, -0.45):
        c, s = math.cos(turn), math.sin(turn)
        bx, by = ux * c - uy * s, ux * s + uy * c
        path.moveTo(QPointF(*head))
        path.lineTo(QPointF(head[0] - bx * size, head[1] - by * size))


def label_anchor(a: Annotation) -> tuple[QPointF, tuple[float, float]]:
    """Where the label sits (image coordinates) and its anchor (pyqtgraph TextItem convention)."""
    if a.kind == "ellipse":
        (x0, y0), (x1, y1) = a.points
        return QPointF(max(x0, x1), min(y0, y1)), (0, 0)
    if a.kind == "ctr":
        (x, y), (x2, _) = a.points[2], a.points[3]
        return QPointF(min(x, x2), y), (0, 0)
    if a.kind == "arrow":  # the label sits at the tail, on the side away from the head
        (tx, ty), (hx, hy) = a.points
        return QPointF(tx, ty), (0.5, 1) if hy > ty else (0.5, 0)
    if a.kind == "text":
        return QPointF(*a.points[0]), (0, 0.5)
    if a.kind == "angle":
        return QPointF(*a.points[1]), (0, 1)
    return QPointF(*a.points[-1]), (0, 1)


class AnnotationGraphic:
    def __init__(self, parent: QGraphicsItem, a: Annotation, text: str, color: str = NORMAL_COLOR):
        self.outline = QGraphicsPathItem(parent)
        self.outline.setZValue(ANNOTATION_Z)
        self.label = pg.TextItem(fill=pg.mkBrush(0, 0, 0, 170))
        self.label.setParentItem(parent)
        self.label.setZValue(ANNOTATION_Z)
        font = QFont()
        font.setPointSizeF(10.5)
        self.label.setFont(font)
        self.annotation = a
        self.update(a, text, color)

    def update(self, a: Annotation, text: str, color: str = NORMAL_COLOR) -> None:
        self.annotation = a
        pen = QPen(QColor(color))
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.outline.setPen(pen)
        self.outline.setPath(annotation_path(a))
        self.label.setColor(QColor(color))
        self.label.setText(text)
        self.label.setVisible(bool(text))
        pos, anchor = label_anchor(a)
        self.label.setAnchor(anchor)
        self.label.setPos(pos)

    def text(self) -> str:
        return self.label.textItem.toPlainText()

    def remove(self) -> None:
        for item in (self.outline, self.label):
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)
            item.setParentItem(None)
