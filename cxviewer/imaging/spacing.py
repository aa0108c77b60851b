"""What a length on a projection radiograph means: the measurement scale of one film (Qt-free).

DICOM PS3.3 10.7.1.3 (Pixel Spacing Calibration Macro) and C.8.11.4 (DX Detector): a projection
radiograph is a shadow, magnified by the divergent beam. Imager Pixel Spacing is the spacing at
the detector; Pixel Spacing, when it equals Imager Pixel Spacing (or comes alone on a CR film),
is the same detector-plane figure. Neither is a size in the patient. Only when:

- Pixel Spacing Calibration Type (0028,0A02) says GEOMETRY or FIDUCIAL, or a Pixel Spacing
  Calibration Description (0028,0A04) says how it was calibrated, or Pixel Spacing differs from
  Imager Pixel Spacing (the standard's sign that it was calibrated) -> "mm calibrated";
- Estimated Radiographic Magnification Factor (0018,1114) is present -> detector spacing divided
  by it, "mm magnification-corrected" (an estimate at the isocentre);
- the reader drew over a known length and typed it (``user_calibration``) -> "mm calibrated";

otherwise lengths in mm are labelled "mm at detector", and without any spacing "px".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

DETECTOR = "detector"
MAGNIFICATION = "magnification"
CALIBRATED = "calibrated"
USER = "user"
PIXELS = "pixels"

UNIT_LABELS = {
    DETECTOR: "mm at detector",
    MAGNIFICATION: "mm magnification-corrected",
    CALIBRATED: "mm calibrated",
    USER: "mm calibrated",
    PIXELS: "px",
}
_CALIBRATION_TYPES = ("GEOMETRY", "FIDUCIAL")
_SAME = 1e-6  # mm: two spacings this close are the same value written twice


@dataclass(frozen=True)
class MeasurementScale:
    """mm per pixel down the rows (``row_mm``) and across the columns (``col_mm``), or None for
    pixels; ``kind`` one of DETECTOR, MAGNIFICATION, CALIBRATED, USER, PIXELS; ``explanation``
    says where the figure came from (for tooltips and the report)."""

    row_mm: float | None
    col_mm: float | None
    kind: str
    explanation: str

    @property
    def in_mm(self) -> bool:
        return self.row_mm is not None and self.col_mm is not None

    @property
    def unit_label(self) -> str:
        return UNIT_LABELS[self.kind]

    @property
    def short_unit(self) -> str:
        return "mm" if self.in_mm else "px"

    def length(self, p0: tuple[float, float], p1: tuple[float, float]) -> float:
        """Length between image points (x = column, y = row) in mm, or in pixels."""
        dx, dy = p1[0] - p0[0], p1[1] - p0[1]
        if self.row_mm is not None and self.col_mm is not None:  # in_mm, spelt out for the type checker
            return math.hypot(dx * self.col_mm, dy * self.row_mm)
        return math.hypot(dx, dy)

    def horizontal(self, x0: float, x1: float) -> float:
        """Horizontal extent (columns) in mm or pixels."""
        return abs(x1 - x0) * (self.col_mm if self.row_mm is not None and self.col_mm is not None else 1.0)

    def area(self, pixel_area: float) -> float:
        """An area of ``pixel_area`` image pixels in mm^2 (or px^2)."""
        if self.row_mm is not None and self.col_mm is not None:
            return pixel_area * self.row_mm * self.col_mm
        return pixel_area

    def format_length(self, value: float) -> str:
        return f"{value:.1f} {self.unit_label}"

    def to_dict(self) -> dict[str, Any]:
        return {"row_mm": self.row_mm, "col_mm": self.col_mm, "kind": self.kind,
                "explanation": self.explanation}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeasurementScale:
        kind = str(d.get("kind", PIXELS))
        if kind not in UNIT_LABELS:
            raise ValueError(f"unknown measurement scale kind {kind!r}")
        row, col = d.get("row_mm"), d.get("col_mm")
        row = float(row) if row is not None else None
        col = float(col) if col is not None else None
        if row is None or col is None:
            if (row is None) != (col is None):
                raise ValueError("a calibrated scale needs two positive spacings")
        elif row <= 0 or col <= 0:
            raise ValueError("a calibrated scale needs two positive spacings")
        return cls(row, col, kind, str(d.get("explanation", "")))


NO_SPACING = MeasurementScale(None, None, PIXELS, "no pixel spacing in the file: lengths in image pixels")


def _pair(ds: Any, keyword: str) -> tuple[float, float] | None:
    from cxviewer.imaging.dicom_header import positive_numbers  # (pydicom: not imported with the window)

    pair = positive_numbers(ds, keyword, 2)
    return (pair[0], pair[1]) if pair is not None else None


def _positive(ds: Any, keyword: str) -> float | None:
    from cxviewer.imaging.dicom_header import positive_numbers

    one = positive_numbers(ds, keyword, 1)
    return one[0] if one is not None else None


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) <= _SAME and abs(a[1] - b[1]) <= _SAME


def scale_from_header(ds: Any) -> MeasurementScale:
    """The scale a DICOM header (a pydicom Dataset, or anything with ``get``) gives its pixels."""
    from cxviewer.imaging.dicom_header import header_text

    ps = _pair(ds, "PixelSpacing")
    ips = _pair(ds, "ImagerPixelSpacing")
    ermf = _positive(ds, "EstimatedRadiographicMagnificationFactor")
    cal_type = header_text(ds, "PixelSpacingCalibrationType").upper()
    cal_desc = header_text(ds, "PixelSpacingCalibrationDescription")
    if ps is not None:
        calibrated_by = ""
        if cal_type in _CALIBRATION_TYPES:
            calibrated_by = f"Pixel Spacing Calibration Type {cal_type}"
        elif cal_desc:
            calibrated_by = "Pixel Spacing calibrated"
        elif ips is not None and not _same(ps, ips):
            calibrated_by = (f"Pixel Spacing {ps[0]:g}\\{ps[1]:g} differs from Imager Pixel Spacing "
                             f"{ips[0]:g}\\{ips[1]:g}: calibrated")
        if calibrated_by:
            if cal_desc:
                calibrated_by += f" ({cal_desc})"
            return MeasurementScale(ps[0], ps[1], CALIBRATED, calibrated_by)
        detector, source = (ips, "Imager Pixel Spacing") if ips is not None else (ps, "Pixel Spacing")
    elif ips is not None:
        detector, source = ips, "Imager Pixel Spacing"
    else:
        return NO_SPACING
    if ermf is not None:
        return MeasurementScale(detector[0] / ermf, detector[1] / ermf, MAGNIFICATION,
                                f"{source} {detector[0]:g}\\{detector[1]:g} mm at the detector divided by "
                                f"the Estimated Radiographic Magnification Factor {ermf:g}")
    return MeasurementScale(detector[0], detector[1], DETECTOR,
                            f"{source} {detector[0]:g}\\{detector[1]:g} mm: at the detector, not corrected "
                            "for magnification (sizes in the patient are smaller)")


def scale_for_radiograph(rad: Any) -> MeasurementScale:
    """The film's scale: from its DICOM header, else from the spacing the reader found, else px."""
    header = getattr(rad, "header", None)
    if header is not None:
        return scale_from_header(header)
    spacing = getattr(rad, "pixel_spacing", None)
    if spacing:
        return MeasurementScale(float(spacing[0]), float(spacing[1]), DETECTOR,
                                "pixel spacing at the detector, not corrected for magnification")
    return NO_SPACING


def user_calibration(base: MeasurementScale, p0: tuple[float, float], p1: tuple[float, float],
                     known_mm: float) -> MeasurementScale:
    """The scale that makes the line p0-p1 measure ``known_mm``: the header's spacing scaled (its
    row/column aspect kept), or square pixels when the film has none."""
    if not (math.isfinite(known_mm) and known_mm > 0):
        raise ValueError("the known length must be a positive number of millimetres")
    pixels = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
    if pixels < 1.0:
        raise ValueError("draw the calibration line over at least one pixel")
    if base.row_mm is not None and base.col_mm is not None:  # base.in_mm
        factor = known_mm / base.length(p0, p1)
        row, col = base.row_mm * factor, base.col_mm * factor
    else:
        row = col = known_mm / pixels
    return replace(base, row_mm=row, col_mm=col, kind=USER,
                   explanation=f"calibrated by the reader: a line of {pixels:.1f} px is {known_mm:g} mm")


def presentation_calibration(base: MeasurementScale, spacing: tuple[float, float],
                             source: str) -> MeasurementScale | None:
    """The scale a presentation state's Presentation Pixel Spacing (row, column mm) gives a film whose
    own scale is ``base``: None when it only repeats the film's spacing (nothing calibrated), else a
    calibration like the reader's own ("mm calibrated"), saying where it came from."""
    row, col = float(spacing[0]), float(spacing[1])
    if not (math.isfinite(row) and math.isfinite(col)) or row <= 0 or col <= 0:
        return None
    if base.row_mm is not None and base.col_mm is not None and _same((row, col), (base.row_mm, base.col_mm)):
        return None
    return MeasurementScale(row, col, USER, f"calibrated in the presentation state {source}: "
                                            f"Presentation Pixel Spacing {row:g}\\{col:g} mm")
