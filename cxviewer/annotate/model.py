"""The reader's annotations on one film and the edits that change them (Qt-free).

Points are image coordinates (x = column, y = row, in pixels, the image's top-left corner at 0, 0).
Kinds and their points:

- ``distance``: two ends;  ``arrow``: tail, head (and optional ``text``);  ``text``: its anchor;
- ``angle``: first end, vertex, second end;
- ``ellipse``: two opposite corners of its bounding box (an ROI);
- ``ctr``: cardiothoracic ratio, heart diameter (two points) then thorax diameter (two points);
  each diameter is the horizontal distance between its two points.

Every change is an ``Edit`` (before -> after); ``AnnotationDocument.apply`` returns the edit that
undoes it, so any undo stack (QUndoStack in the UI) can drive it.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from cxviewer.imaging.spacing import MeasurementScale

POINT_COUNTS = {"distance": 2, "arrow": 2, "text": 1, "angle": 3, "ellipse": 2, "ctr": 4}
KINDS = tuple(POINT_COUNTS)
MAX_TEXT = 1024

Point = tuple[float, float]


@dataclass(frozen=True)
class Annotation:
    kind: str
    points: tuple[Point, ...]
    text: str = ""
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if self.kind not in POINT_COUNTS:
            raise ValueError(f"unknown annotation kind {self.kind!r}")
        if len(self.points) != POINT_COUNTS[self.kind]:
            raise ValueError(f"a {self.kind} needs {POINT_COUNTS[self.kind]} points, not {len(self.points)}")
        pts = tuple((float(x), float(y)) for x, y in self.points)
        if not all(math.isfinite(v) for p in pts for v in p):
            raise ValueError("annotation points must be finite numbers")
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "text", str(self.text)[:MAX_TEXT])

    def moved(self, dx: float, dy: float) -> Annotation:
        return replace(self, points=tuple((x + dx, y + dy) for x, y in self.points))

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "kind": self.kind, "points": [list(p) for p in self.points], "text": self.text}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Annotation:
        return cls(str(d["kind"]), tuple(tuple(p) for p in d["points"]), str(d.get("text", "")),
                   str(d.get("uid") or uuid.uuid4().hex))

    def distance_to(self, p: Point) -> float:
        """Image pixels from ``p`` to the nearest part of this annotation (for picking it)."""
        if self.kind == "text":
            return math.dist(p, self.points[0])
        if self.kind == "ellipse":
            return _ellipse_distance(p, self.points)
        segments = {"distance": [(0, 1)], "arrow": [(0, 1)], "angle": [(0, 1), (1, 2)],
                    "ctr": [(0, 1), (2, 3)]}[self.kind]
        return min(_segment_distance(p, self.points[i], self.points[j]) for i, j in segments)


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    n = dx * dx + dy * dy
    t = 0.0 if n == 0 else max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / n))
    return math.dist(p, (ax + t * dx, ay + t * dy))


def _ellipse_distance(p: Point, corners: tuple[Point, ...]) -> float:
    (x0, y0), (x1, y1) = corners
    cx, cy, a, b = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
    if a == 0 or b == 0:
        return _segment_distance(p, corners[0], corners[1])
    ang = math.atan2((p[1] - cy) / b, (p[0] - cx) / a)
    nearest = (cx + a * math.cos(ang), cy + b * math.sin(ang))
    return math.dist(p, nearest)  # radial, not the exact normal distance: close enough to pick


@dataclass(frozen=True)
class Edit:
    """Add (before None), remove (after None) or change one annotation; ``index`` keeps order on undo."""

    before: Annotation | None
    after: Annotation | None
    index: int = -1

    def inverse(self) -> Edit:
        return Edit(self.after, self.before, self.index)


@dataclass(frozen=True)
class CalibrationEdit:
    before: MeasurementScale | None
    after: MeasurementScale | None

    def inverse(self) -> CalibrationEdit:
        return CalibrationEdit(self.after, self.before)


class AnnotationDocument:
    """Annotations (in drawing order) and the reader's calibration of one film."""

    def __init__(self, key: str, annotations=(), calibration: MeasurementScale | None = None):
        self.key = key
        self.annotations: list[Annotation] = list(annotations)
        self.calibration = calibration

    def find(self, uid: str) -> Annotation | None:
        return next((a for a in self.annotations if a.uid == uid), None)

    def _index(self, uid: str) -> int:
        for i, a in enumerate(self.annotations):
            if a.uid == uid:
                return i
        raise KeyError(uid)

    def apply(self, edit: Edit | CalibrationEdit):
        """Make the change; returns the edit that undoes it."""
        if isinstance(edit, CalibrationEdit):
            self.calibration = edit.after
            return edit.inverse()
        if edit.before is None:  # add
            index = edit.index if 0 <= edit.index <= len(self.annotations) else len(self.annotations)
            self.annotations.insert(index, edit.after)
            return Edit(edit.after, None, index)
        i = self._index(edit.before.uid)
        if edit.after is None:  # remove
            del self.annotations[i]
        else:
            self.annotations[i] = edit.after
        return Edit(edit.after, edit.before, i)

    def pick(self, p: Point, tolerance: float) -> Annotation | None:
        """The top-most annotation within ``tolerance`` image pixels of ``p``."""
        best = None
        for a in reversed(self.annotations):
            d = a.distance_to(p)
            if d <= tolerance and (best is None or d < best[0]):
                best = (d, a)
        return best[1] if best else None

    def is_empty(self) -> bool:
        return not self.annotations and self.calibration is None

    def to_dict(self) -> dict[str, Any]:
        return {"format": "cxviewer-annotations", "version": 1, "key": self.key,
                "annotations": [a.to_dict() for a in self.annotations],
                "calibration": self.calibration.to_dict() if self.calibration else None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnnotationDocument:
        if d.get("format") != "cxviewer-annotations":
            raise ValueError("not a CXViewer annotation file")
        cal = d.get("calibration")
        return cls(str(d.get("key", "")), [Annotation.from_dict(a) for a in d.get("annotations", [])],
                   MeasurementScale.from_dict(cal) if cal else None)
