"""How coloured a source image is, measured once while the reader still holds its colour channels.

The radiograph keeps only grey pixels; a grey film saved as RGB (common for JPEGs) is not a colour
picture, so whether an image "is colour" is judged on its own channels, here, at decoding time.
"""

from __future__ import annotations

import cv2
import numpy as np


def chroma(image, bits: int | None = None) -> float:
    """How coloured an H x W x 3 image is: the 99th percentile of max(|R-G|, |G-B|, |R-B|) on the 8-bit scale.

    ``bits``: the bits stored of an integer image deeper than 8 bits (a DICOM colour frame), used to
    bring it to the 8-bit scale; a uint16 image without ``bits`` is taken as full 16-bit range.
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] < 3:
        return 0.0
    step = max(1, int(max(img.shape[:2]) // 512))  # a sampled grid is enough to tell colour
    rgb = img[::step, ::step, :3].astype(np.float32)
    if bits is not None and img.dtype != np.uint8:
        rgb *= 255.0 / max(1, (1 << int(bits)) - 1)
    elif img.dtype == np.uint16:
        rgb *= 1.0 / 257.0  # judge on the 8-bit scale
    spread = np.maximum.reduce(
        [np.abs(rgb[..., 0] - rgb[..., 1]), np.abs(rgb[..., 1] - rgb[..., 2]), np.abs(rgb[..., 0] - rgb[..., 2])]
    )
    return float(np.percentile(spread, 99))


def reduced_chroma(bgr: np.ndarray) -> float:
    """Chroma of a plain image at a quarter of its size (area average): JPEG block noise of a grey film saved
    as colour averages out, a real tint does not (what the scope rule was tuned on: OpenCV's reduced decode)."""
    h, w = bgr.shape[:2]
    small = cv2.resize(bgr, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA) if min(h, w) >= 8 else bgr
    return chroma(small)
