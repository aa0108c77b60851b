"""Independent reference for the display pipeline, written per pixel from DICOM PS3.3 C.11.

Deliberately plain Python (no numpy tricks, nothing from cxviewer): each function is the
standard's text turned into code, to check the vectorised production code against.
"""

from __future__ import annotations

import math


def modality(x: int, slope: float = 1.0, intercept: float = 0.0, lut: list[int] | None = None, first: int = 0) -> float:
    """C.11.1: Modality LUT (clamped to the first/last entry) if present, else x * slope + intercept."""
    if lut is not None:
        index = x - first
        index = 0 if index < 0 else len(lut) - 1 if index > len(lut) - 1 else index
        return lut[index]
    return x * slope + intercept


def voi_linear(x: float, c: float, w: float) -> float:
    """C.11.2.1.2.1, output range 0..255."""
    if x <= c - 0.5 - (w - 1) / 2:
        return 0.0
    if x > c - 0.5 + (w - 1) / 2:
        return 255.0
    return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255.0


def voi_linear_exact(x: float, c: float, w: float) -> float:
    """C.11.2.1.3.2."""
    if x <= c - w / 2:
        return 0.0
    if x > c + w / 2:
        return 255.0
    return ((x - c) / w + 0.5) * 255.0


def voi_sigmoid(x: float, c: float, w: float) -> float:
    """C.11.2.1.3.1."""
    exponent = -4.0 * (x - c) / w
    return 0.0 if exponent > 700 else 255.0 / (1.0 + math.exp(exponent))  # exp(>700) overflows a float


def voi_lut(x: float, lut: list[int], first: int, bits: int) -> float:
    """C.11.2.1.1: below the first mapped value -> first entry, past the end -> last; scaled to 0..255."""
    index = int(round(x)) - first
    index = 0 if index < 0 else len(lut) - 1 if index > len(lut) - 1 else index
    return lut[index] / (2**bits - 1) * 255.0


def full_range(x: float, lo: float, hi: float) -> float:
    """No VOI in the header: the full range of modality values spread over 0..255."""
    return 0.0 if hi == lo else (x - lo) / (hi - lo) * 255.0


def to_display(y: float, monochrome1: bool) -> int:
    """8-bit grey level; MONOCHROME1 is inverted after VOI."""
    y = min(max(y, 0.0), 255.0)
    if monochrome1:
        y = 255.0 - y
    return int(math.floor(y + 0.5))
