"""What each annotation measures, and the label drawn beside it (Qt-free).

Lengths follow the film's ``MeasurementScale`` (the label says "mm at detector", "mm calibrated"
or "px"); an ellipse ROI gives mean, SD, min and max of the modality pixel values inside it (pixel
centres inside the ellipse); the cardiothoracic ratio is heart diameter / thorax diameter, both
horizontal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cxviewer.annotate.model import Annotation
from cxviewer.imaging.lut import without_padding
from cxviewer.imaging.spacing import MeasurementScale


@dataclass(frozen=True)
class RoiStats:
    count: int
    mean: float
    sd: float
    minimum: float
    maximum: float
    area: float  # mm^2 with a spacing, else px^2 (ellipse area)


def angle_degrees(a: Annotation, scale: MeasurementScale | None = None) -> float:
    """Angle at the vertex (points[1]), 0..180; measured in mm space when the pixels are not square."""
    (x0, y0), (vx, vy), (x1, y1) = a.points
    sx = scale.col_mm if scale is not None and scale.in_mm else 1.0
    sy = scale.row_mm if scale is not None and scale.in_mm else 1.0
    u = ((x0 - vx) * sx, (y0 - vy) * sy)
    v = ((x1 - vx) * sx, (y1 - vy) * sy)
    nu, nv = math.hypot(*u), math.hypot(*v)
    if nu == 0 or nv == 0:
        return 0.0
    c = max(-1.0, min(1.0, (u[0] * v[0] + u[1] * v[1]) / (nu * nv)))
    return math.degrees(math.acos(c))


def ellipse_mask(shape: tuple[int, int], corners) -> tuple[np.ndarray, slice, slice]:
    """Boolean mask of the pixels whose centres lie inside the ellipse, over its clipped bounding box."""
    (x0, y0), (x1, y1) = corners
    left, right = sorted((x0, x1))
    top, bottom = sorted((y0, y1))
    a, b = (right - left) / 2.0, (bottom - top) / 2.0
    cx, cy = (left + right) / 2.0, (top + bottom) / 2.0
    h, w = shape
    r0, r1 = max(0, int(math.floor(top))), min(h, int(math.ceil(bottom)))
    c0, c1 = max(0, int(math.floor(left))), min(w, int(math.ceil(right)))
    rows, cols = slice(r0, max(r0, r1)), slice(c0, max(c0, c1))
    if a <= 0 or b <= 0 or r1 <= r0 or c1 <= c0:
        return np.zeros((max(0, r1 - r0), max(0, c1 - c0)), bool), rows, cols
    yy = (np.arange(r0, r1) + 0.5 - cy) / b
    xx = (np.arange(c0, c1) + 0.5 - cx) / a
    return (yy[:, None] ** 2 + xx[None, :] ** 2) <= 1.0, rows, cols


def roi_stats(pixels: np.ndarray, a: Annotation, scale: MeasurementScale | None = None,
              padding: tuple[float, float] | None = None) -> RoiStats | None:
    """Statistics of the modality values inside an ellipse ROI, Pixel Padding (``padding``: Radiograph.padding)
    left out; None when it holds no image pixel centre. The area is the ellipse's."""
    mask, rows, cols = ellipse_mask(pixels.shape, a.points)
    values = np.asarray(pixels[rows, cols], dtype=np.float64)[mask] if mask.size else np.empty(0)
    values = without_padding(values, padding)
    if values.size == 0:
        return None
    (x0, y0), (x1, y1) = a.points
    pixel_area = math.pi * abs(x1 - x0) / 2 * abs(y1 - y0) / 2
    area = scale.area(pixel_area) if scale is not None else pixel_area
    return RoiStats(int(values.size), float(values.mean()), float(values.std()), float(values.min()),
                    float(values.max()), area)


def cardiothoracic(a: Annotation, scale: MeasurementScale | None = None) -> tuple[float, float, float]:
    """(heart diameter, thorax diameter, ratio); diameters horizontal, in mm or px; ratio 0 if no thorax."""
    (h0, _), (h1, _), (t0, _), (t1, _) = a.points
    if scale is not None:
        heart, thorax = scale.horizontal(h0, h1), scale.horizontal(t0, t1)
    else:
        heart, thorax = abs(h1 - h0), abs(t1 - t0)
    return heart, thorax, (heart / thorax if thorax else 0.0)


def _number(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.1f}"


def label(a: Annotation, scale: MeasurementScale, pixels: np.ndarray | None = None,
          padding: tuple[float, float] | None = None) -> str:
    """The text drawn beside the annotation."""
    if a.kind == "distance":
        return scale.format_length(scale.length(*a.points))
    if a.kind == "angle":
        return f"{angle_degrees(a, scale):.1f}\N{DEGREE SIGN}"
    if a.kind in ("text", "arrow"):
        return a.text
    if a.kind == "ctr":
        heart, thorax, ratio = cardiothoracic(a, scale)
        unit = scale.unit_label
        return f"CTR {ratio:.2f} (heart {heart:.1f} / thorax {thorax:.1f} {unit})"
    if a.kind == "ellipse":
        stats = roi_stats(pixels, a, scale, padding) if pixels is not None else None
        if stats is None:
            return "ROI: no pixels"
        area_unit = "mm\N{SUPERSCRIPT TWO}" if scale.in_mm else "px\N{SUPERSCRIPT TWO}"
        # the area says what it measures, as the lengths do: "mm at detector" -> "mm² at detector", and so on
        where = scale.unit_label[len("mm"):] if scale.in_mm and scale.unit_label.startswith("mm") else ""
        return (f"mean {_number(stats.mean)} SD {_number(stats.sd)}\n"
                f"min {_number(stats.minimum)} max {_number(stats.maximum)}\n"
                f"area {stats.area:.0f} {area_unit}{where}")
    raise ValueError(a.kind)
