"""Apply a per-value function to a whole image quickly.

An integer image has few distinct values: evaluate the function once per possible value (a
lookup table) and index the table, instead of computing on every pixel. 8-bit images use
``cv2.LUT``; 16-bit images a 65536-entry table; wider integers a table over their actual range.
Floating-point images fall back to evaluating the (vectorised) function on the pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

# OpenCV is imported inside the functions: the viewer's window shows before it is loaded.

# Wider integer images get a table over [min, max] when the range is at most this long.
MAX_TABLE = 1 << 22

ValueFunction = Callable[[np.ndarray], np.ndarray]


def without_padding(values: np.ndarray, padding: tuple[float, float] | None) -> np.ndarray:
    """``values`` (any shape) as a flat array without those in ``padding`` (low, high, inclusive: Radiograph.padding,
    the Pixel Padding of PS3.3 C.7.5.1.1.2); all of them, flattened, when ``padding`` is None."""
    if padding is None:
        return np.ravel(values)
    return values[(values < padding[0]) | (values > padding[1])]


def min_max(pixels: np.ndarray, exclude: tuple[float, float] | None = None) -> tuple[float, float]:
    """(min, max) of a 2-D image in one fast pass; ``exclude``: values (low, high, inclusive) left out (padding),
    unless nothing else is left."""
    if pixels.size == 0:
        return 0.0, 0.0
    if exclude is not None:
        kept = without_padding(pixels, exclude)
        if kept.size:
            return float(kept.min()), float(kept.max())
    if pixels.dtype in (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32, np.float64):
        import cv2

        lo, hi, _, _ = cv2.minMaxLoc(pixels)
        return float(lo), float(hi)
    return float(pixels.min()), float(pixels.max())


def integer_domain(dtype: np.dtype) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]] | None:
    """Every value of an 8/16-bit integer dtype, and how to turn pixels into table indices."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8 or dtype == np.uint16:
        return np.arange(1 << (8 * dtype.itemsize)), lambda a: a
    if dtype == np.int8:
        return np.arange(256, dtype=np.uint8).view(np.int8).astype(np.int64), lambda a: a.view(np.uint8)
    if dtype == np.int16:
        return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int64), lambda a: a.view(np.uint16)
    return None


def lookup(pixels: np.ndarray, func: ValueFunction, out_dtype: npt.DTypeLike) -> np.ndarray:
    """``func`` applied to every pixel; ``func`` takes and returns 1-D arrays (values -> outputs)."""
    out_dtype = np.dtype(out_dtype)
    domain = integer_domain(pixels.dtype)
    if domain is not None:
        values, to_index = domain
        table = np.ascontiguousarray(func(values), dtype=out_dtype)
        if pixels.dtype == np.uint8 and out_dtype == np.uint8:
            import cv2

            return cv2.LUT(pixels, table)
        return np.take(table, to_index(pixels))
    if pixels.dtype.kind in "iu":
        lo, hi = (int(v) for v in min_max(pixels))
        if hi - lo < MAX_TABLE:
            table = np.ascontiguousarray(func(np.arange(lo, hi + 1)), dtype=out_dtype)
            return np.take(table, pixels - pixels.dtype.type(lo))  # fits: 0 <= value - lo < MAX_TABLE
    return np.asarray(func(pixels.astype(np.float64, copy=False).ravel()), dtype=out_dtype).reshape(pixels.shape)
