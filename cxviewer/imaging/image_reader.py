"""Read PNG, JPEG, WebP and TIFF files (8 or 16 bit, grey or colour) into a Radiograph.

Colour becomes luma (Rec. 601 weights, as OpenCV's BGR->grey); alpha is dropped. An 8-bit image
gets one preset that shows it exactly as stored (identity); deeper images have no preset, so
they display over their full value range. Image dimensions are checked from the PNG/JPEG header
before decoding.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

from cxviewer.imaging.colour import reduced_chroma
from cxviewer.imaging.dicom_reader import MAX_PIXELS
from cxviewer.imaging.errors import UnreadableImageError
from cxviewer.imaging.radiograph import Radiograph, VoiPreset

AS_STORED_8BIT = VoiPreset(
    name="As stored",
    center=128.0,
    width=256.0,
    function="LINEAR",
    explanation="8-bit image shown with its stored grey levels",
)

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first start-of-frame segment."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _check_size(data: bytes, fmt: str, path: Path) -> None:
    size = _png_size(data) if fmt == "PNG" else _jpeg_size(data) if fmt == "JPEG" else None
    if size is None:
        return
    width, height = size
    if width == 0 or height == 0 or width * height > MAX_PIXELS:
        raise UnreadableImageError(
            f"The image dimensions make no sense: the {fmt} header claims {width} x {height} pixels.", path
        )


def _to_grey(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """Grey image and whether the source had colour (channels differing by more than 1 % of full scale)."""
    if image.ndim == 2:
        return image, False
    if image.shape[2] == 1 or image.shape[2] == 2:  # grey, or grey + alpha
        return np.ascontiguousarray(image[..., 0]), False
    bgr = np.ascontiguousarray(image[..., :3])
    b, g, r = (bgr[..., i] for i in range(3))
    if np.array_equal(b, g) and np.array_equal(g, r):
        return np.ascontiguousarray(b), False
    full_scale = np.iinfo(image.dtype).max if image.dtype.kind in "iu" else 1.0
    spread = cv2.absdiff(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r))
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), float(spread.max()) > 0.01 * full_scale


def read_image(path: Path, fmt: str) -> Radiograph:
    data = path.read_bytes()
    _check_size(data, fmt, path)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    except cv2.error as exc:
        raise UnreadableImageError(f"The {fmt} image cannot be decoded: {exc.err or exc}", path) from None
    if image is None or image.size == 0:
        raise UnreadableImageError(f"The file looks like a {fmt} image but cannot be decoded (damaged or truncated?).", path)
    pixels, was_color = _to_grey(image)
    return Radiograph(
        chroma=reduced_chroma(image[..., :3]) if was_color else None,
        path=path,
        pixels=pixels,
        photometric="MONOCHROME2",
        voi_presets=[AS_STORED_8BIT] if pixels.dtype == np.uint8 else [],
        source_format=fmt,
        was_color=was_color,
    )
