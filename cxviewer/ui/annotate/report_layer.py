"""The film's annotations rendered for the report's PDF image.

``render_annotation_layer`` draws the annotations (outlines and their labels, as on screen) into
an RGBA array laid out like the displayed image, orientation included (a rotated view gives a
rotated layer with upright text). ``install_annotation_pdf`` gives the report pane a provider of
that layer, and the PDF renderer blends it in (cxviewer.report.annotation_overlay).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QTransform

from cxviewer.ui.annotate.items import NORMAL_COLOR, annotation_path, label_anchor

MAX_LAYER_SIDE = 2048  # the PDF embeds at most 1400 px a side: more would only cost memory


def _orientation_transform(m, w: int, h: int) -> tuple[QTransform, int, int]:
    """Image (x, y) -> position in the oriented picture, and that picture's width and height."""
    (a, b), (c, d) = np.asarray(m if m is not None else np.eye(2)).tolist()
    ow, oh = (h, w) if b != 0 else (w, h)
    # x' = a (x - w/2) + b (y - h/2) + ow/2 ; y' = c (x - w/2) + d (y - h/2) + oh/2
    t = QTransform(a, c, b, d, -(a * w / 2 + b * h / 2) + ow / 2, -(c * w / 2 + d * h / 2) + oh / 2)
    return t, ow, oh


def render_annotation_layer(image_size: tuple[int, int], annotations, labels: dict[str, str],
                            orientation: Any = None, max_side: int = MAX_LAYER_SIDE) -> np.ndarray | None:
    """RGBA uint8 (oriented; longest side at most ``max_side``), or None without annotations.

    ``image_size`` is (width, height) of the film in image pixels; ``labels`` uid -> text."""
    annotations = list(annotations)
    if not annotations:
        return None
    w, h = image_size
    orient, ow, oh = _orientation_transform(orientation, w, h)
    scale = min(1.0, max_side / max(ow, oh))
    lw, lh = max(1, round(ow * scale)), max(1, round(oh * scale))
    to_layer = orient * QTransform.fromScale(lw / ow, lh / oh)
    img = QImage(lw, lh, QImage.Format.Format_RGBA8888)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = max(lw, lh)
    pen = QPen(QColor(NORMAL_COLOR))
    pen.setWidthF(max(2.0, side / 400))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    font = QFont()
    font.setPixelSize(max(11, round(side / 55)))
    p.setFont(font)
    metrics = QFontMetricsF(font)
    for a in annotations:
        p.setPen(pen)
        p.drawPath(to_layer.map(annotation_path(a)))
        text = labels.get(a.uid, "")
        if not text:
            continue
        anchor_point, (ax, ay) = label_anchor(a)
        at = to_layer.map(QPointF(anchor_point))
        lines = text.split("\n")
        tw = max(metrics.horizontalAdvance(line) for line in lines) + 8
        th = metrics.height() * len(lines) + 4
        box = QRectF(at.x() - ax * tw, at.y() - ay * th, tw, th)
        box.moveLeft(min(max(box.left(), 0.0), lw - tw))  # keep the label on the picture
        box.moveTop(min(max(box.top(), 0.0), lh - th))
        p.fillRect(box, QColor(0, 0, 0, 170))
        p.setPen(QColor(NORMAL_COLOR))
        p.drawText(box.adjusted(4, 2, -4, -2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text)
    p.end()
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=img.bytesPerLine() * lh).reshape(lh, img.bytesPerLine())
    return arr[:, : lw * 4].reshape(lh, lw, 4).copy()


def layer_for_view(view, controller) -> np.ndarray | None:
    """The layer for what ``view`` shows now (its film, annotations and orientation)."""
    if view.rad is None or controller is None or controller.doc is None:
        return None
    labels = {a.uid: controller.label_for(a) for a in controller.doc.annotations}
    return render_annotation_layer(view.image_size(), controller.doc.annotations, labels,
                                   getattr(view, "orientation", None))


def install_annotation_pdf(window, tools, report_dock) -> None:
    """The report pane's PDF image gets the annotations of the film in the active viewport (the pane's film)."""

    def layer():
        view = getattr(window, "active_view", window.image_view)
        if view.rad is None or view.rad is not report_dock.current_radiograph():  # the pane renders another film
            return None
        return layer_for_view(view, tools.controller_for(view))

    report_dock.annotation_layer_provider = layer
