"""Display transform of DICOM PS3.3 C.11: modality values -> VOI -> (MONOCHROME1 inversion) -> 8 bit.

Input pixels are already in modality units (see ``modality.py``). VOI is one of:

* a window with VOI LUT Function LINEAR (C.11.2.1.2.1, the "c - 0.5, w - 1" formula),
  LINEAR_EXACT (C.11.2.1.3.2) or SIGMOID (C.11.2.1.3.1), output range 0..255;
* a VOI LUT Sequence table (C.11.2.1.1): values below the first mapped value take the first entry,
  values past the end take the last; entries (0..2**bits-1) are scaled to 0..255.

MONOCHROME1 is inverted after VOI (C.11.2.1.1: VOI output is in P-values only after the
Presentation LUT; for MONOCHROME1 the minimum is white). Linear windows on 16-bit, 32-bit and
float images run as two or three OpenCV passes (a few ms for 9 megapixels); other transforms use a
lookup table over the integer range (``lut.py``).
"""

from __future__ import annotations

import math

import numpy as np

from cxviewer.imaging.lut import lookup, min_max
from cxviewer.imaging.radiograph import Radiograph, VoiPreset

FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
Window = VoiPreset | tuple[float, float]

_FAST_DTYPES = (np.uint16, np.int16, np.int32, np.float32, np.float64)
_FAST_MIN_PIXELS = 64  # smaller images go through the lookup path (same result)


def window_curve(x: np.ndarray, center: float, width: float, function: str = "LINEAR") -> np.ndarray:
    """VOI output (float, 0..255) of a window for modality values ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if function == "SIGMOID":
        with np.errstate(over="ignore"):  # exp overflow -> inf -> output 0, the correct limit
            return 255.0 / (1.0 + np.exp(-4.0 * (x - center) / width))
    if function == "LINEAR_EXACT":
        lower, upper = center - width / 2, center + width / 2
        y = ((x - center) / width + 0.5) * 255.0
    elif width <= 1:  # LINEAR with the minimum width: a threshold at c - 0.5
        lower = upper = center - 0.5
        y = np.zeros_like(x)
    else:
        lower, upper = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
        y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255.0
    return np.where(x <= lower, 0.0, np.where(x > upper, 255.0, y))


def lut_curve(x: np.ndarray, lut: np.ndarray, first_mapped: int, bits: int) -> np.ndarray:
    """VOI LUT Sequence output (float, 0..255) for modality values ``x``."""
    index = np.clip(np.rint(np.asarray(x, dtype=np.float64)) - first_mapped, 0, len(lut) - 1).astype(np.intp)
    return np.asarray(lut, dtype=np.float64)[index] * (255.0 / ((1 << bits) - 1))


def _to_u8(y: np.ndarray, invert: bool) -> np.ndarray:
    y = np.clip(y, 0.0, 255.0)
    if invert:
        y = 255.0 - y
    return np.rint(y).astype(np.uint8)


def _linear_fast(pixels: np.ndarray, center: float, width: float, exact: bool, invert: bool) -> np.ndarray | None:
    """LINEAR / LINEAR_EXACT with OpenCV: clamp below, scale with rounding and saturation."""
    import cv2  # here, not at module level: the viewer's window shows before OpenCV is loaded

    if pixels.dtype not in _FAST_DTYPES or pixels.ndim != 2 or (not exact and width <= 1):
        return None
    if pixels.size < _FAST_MIN_PIXELS:  # OpenCV takes an (n, 1) array with n <= 4 for a scalar
        return None
    pixels = np.ascontiguousarray(pixels)
    if exact:
        alpha, lower = 255.0 / width, center - width / 2
    else:
        alpha, lower = 255.0 / (width - 1), center - 0.5 - (width - 1) / 2
    beta = -alpha * lower  # output 0 at the lower edge, 255 at the upper edge
    # convertScaleAbs takes |alpha*x + beta|: clamp x first so that the value is never negative.
    if pixels.dtype.kind == "f":
        out = cv2.convertScaleAbs(cv2.max(pixels, float(lower)), alpha=alpha, beta=beta)  # type: ignore[call-overload, unused-ignore]  # cv2 takes a scalar; its stubs omit it
    else:
        info = np.iinfo(pixels.dtype)
        first_above = math.floor(lower) + 1  # smallest integer value above the lower edge
        if first_above > info.max:
            out = np.zeros(pixels.shape, np.uint8)
        elif first_above <= info.min:
            out = cv2.convertScaleAbs(pixels, alpha=alpha, beta=beta)
        else:
            out = cv2.convertScaleAbs(cv2.max(pixels, float(first_above)), alpha=alpha, beta=beta)  # type: ignore[call-overload, unused-ignore]
            if alpha * (first_above - lower) >= 0.5:  # values below first_above must be 0, not f(first_above)
                cv2.bitwise_and(out, cv2.compare(pixels, float(first_above), cv2.CMP_GE), dst=out)  # type: ignore[call-overload, unused-ignore]
    if invert:
        cv2.bitwise_not(out, dst=out)
    return out


def apply_voi(pixels: np.ndarray, window: Window, monochrome1: bool = False, function: str = "LINEAR") -> np.ndarray:
    """8-bit display of modality-unit ``pixels`` through ``window``, inverted when ``monochrome1``.

    ``window`` is a VoiPreset (window or VOI LUT) or (center, width); ``function`` applies to a
    (center, width) pair only (a preset carries its own).
    """
    if isinstance(window, VoiPreset):
        if window.lut is not None:
            lut, first, bits = window.lut, window.lut_first_mapped, window.lut_bits
            return lookup(pixels, lambda v: _to_u8(lut_curve(v, lut, first, bits), monochrome1), np.uint8)
        center, width, function = window.center, window.width, window.function
    else:
        center, width = (float(v) for v in window)
    function = (function or "LINEAR").upper()
    if function not in FUNCTIONS:
        raise ValueError(f"unknown VOI LUT function {function!r} (expected one of {', '.join(FUNCTIONS)})")
    if not (width > 0 and math.isfinite(width) and math.isfinite(center)):
        raise ValueError(f"window width must be a positive number (got centre {center}, width {width})")
    if function != "SIGMOID":
        fast = _linear_fast(pixels, center, width, function == "LINEAR_EXACT", monochrome1)
        if fast is not None:
            return fast
    return lookup(pixels, lambda v: _to_u8(window_curve(v, center, width, function), monochrome1), np.uint8)


def full_range_window(rad: Radiograph | np.ndarray) -> tuple[float, float]:
    """(center, width) whose LINEAR window maps the lowest modality value to 0 and the highest to 255."""
    lo, hi = rad.value_range() if isinstance(rad, Radiograph) else min_max(rad)
    width = hi - lo + 1.0
    return lo + width / 2.0, width
