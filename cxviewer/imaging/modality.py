"""Modality transform (PS3.3 C.11.1): stored values -> modality units.

The Modality LUT Sequence takes precedence over Rescale Slope/Intercept. Results stay integer
whenever the transform allows (no copy at all for slope 1, intercept 0); a fractional slope or
intercept gives float32.
"""

from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset

from cxviewer.imaging.dicom_luts import read_lut
from cxviewer.imaging.lut import lookup


def _number(ds: Dataset, keyword: str, default: float) -> float:
    try:
        value = float(ds.get(keyword, default))
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) else default


def _stored_range(stored: np.ndarray, ds: Dataset) -> tuple[int, int]:
    """Range the stored integer values can take (from Bits Stored and the dtype)."""
    info = np.iinfo(stored.dtype)
    bits = int(ds.get("BitsStored") or info.bits)
    bits = min(max(bits, 1), info.bits)
    if stored.dtype.kind == "i":
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def padding_range(ds: Dataset) -> tuple[float, float] | None:
    """Pixel Padding Value (and Pixel Padding Range Limit) as modality values (low, high), PS3.3 C.7.5.1.1.2; None
    without one, or behind a Modality LUT Sequence (its table need not keep the values' order)."""
    if "PixelPaddingValue" not in ds or ds.get("ModalityLUTSequence"):
        return None
    try:
        ends = [float(ds.PixelPaddingValue)]
        if ds.get("PixelPaddingRangeLimit") is not None:
            ends.append(float(ds.PixelPaddingRangeLimit))
    except (TypeError, ValueError):
        return None
    if int(ds.get("PixelRepresentation", 0) or 0) == 1:  # signed pixels, the value read as US: its 16 bits as SS
        ends = [v - 65536 if v >= 32768 else v for v in ends]
    slope = _number(ds, "RescaleSlope", 1.0) or 1.0
    intercept = _number(ds, "RescaleIntercept", 0.0)
    values = [v * slope + intercept for v in ends]
    return min(values), max(values)


def output_can_be_negative(ds: Dataset) -> bool:
    """Whether the modality transform's output (the VOI LUT's input) can be below 0 (PS3.3 C.11.2.1.1: a VOI LUT
    Descriptor's first mapped value is then signed, whatever the Pixel Representation)."""
    if ds.get("ModalityLUTSequence"):
        return False  # a Modality LUT's entries are unsigned
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 16)
    bits = min(max(bits, 1), 32)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    slope = _number(ds, "RescaleSlope", 1.0) or 1.0
    intercept = _number(ds, "RescaleIntercept", 0.0)
    return min(lo * slope + intercept, hi * slope + intercept) < 0


def _int_dtype_for(lo: float, hi: float, at_least: np.dtype) -> np.dtype | None:
    """Smallest integer dtype, no narrower than ``at_least``, that holds lo..hi."""
    for kind in (np.uint8, np.int8, np.uint16, np.int16, np.int32):
        dtype, info = np.dtype(kind), np.iinfo(kind)
        if dtype.itemsize >= at_least.itemsize and info.min <= lo and hi <= info.max:
            return dtype
    return None


def modality_transform(stored: np.ndarray, ds: Dataset) -> np.ndarray:
    """Stored pixel values of a greyscale image -> modality values (same shape)."""
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    sequence = ds.get("ModalityLUTSequence")
    if sequence:
        table = read_lut(sequence[0], signed_input=signed, little_endian=ds.original_encoding[1] is not False)
        data, first = table.data, table.first_mapped
        return lookup(stored, lambda v: data[np.clip(np.rint(v).astype(np.int64) - first, 0, len(data) - 1)], np.uint16)

    slope = _number(ds, "RescaleSlope", 1.0) or 1.0  # a zero slope would erase the image
    intercept = _number(ds, "RescaleIntercept", 0.0)
    if slope == 1.0 and intercept == 0.0:
        return stored
    if stored.dtype.kind in "iu" and slope.is_integer() and intercept.is_integer():
        lo, hi = _stored_range(stored, ds)
        ends = (lo * slope + intercept, hi * slope + intercept)
        dtype = _int_dtype_for(min(ends), max(ends), stored.dtype)
        if dtype is not None:
            if slope < 0:  # the product is negative before the intercept lifts it: work in int64, then narrow
                return (stored.astype(np.int64) * int(slope) + int(intercept)).astype(dtype)
            out = stored.astype(dtype)
            if slope != 1.0:
                out *= dtype.type(slope)
            out += dtype.type(intercept)
            return out
    out = stored.astype(np.float32)
    with np.errstate(over="ignore"):  # out of float32 range: inf, which the reader refuses
        out *= np.float32(slope)
        out += np.float32(intercept)
    return out
