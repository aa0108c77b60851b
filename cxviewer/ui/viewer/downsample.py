"""Area downsampling by an integer factor: the mean of every k x k block of pixels.

OpenCV's INTER_AREA takes its fast path only when the size ratio is an exact integer. A frame whose
sides are not multiples of k (1841 x 1955 for a CR, k = 2) sends one ``cv2.resize`` call down the
generic path, 20-40 times slower (16 ms instead of 0.4 ms on 3.6 megapixels). Here the full blocks,
the partial blocks of the last column and row, and the corner are each resized at an exact ratio,
so the result is the true block mean everywhere, partial blocks included (mean of the pixels there).
"""

from __future__ import annotations

import numpy as np

_CV_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)


def block_mean(pixels: np.ndarray, k: int) -> np.ndarray:
    """(ceil(h/k), ceil(w/k)) array of k x k block means; integer types are rounded."""
    if k <= 1:
        return pixels
    import cv2  # not at module level: the window shows before OpenCV is loaded

    src = pixels if pixels.dtype in _CV_DTYPES else pixels.astype(np.float32)
    h, w = src.shape
    fh, fw = h // k, w // k  # full blocks
    oh, ow = -(-h // k), -(-w // k)
    if (fh, fw) == (oh, ow):
        return cv2.resize(src, (ow, oh), interpolation=cv2.INTER_AREA)
    out = np.empty((oh, ow), dtype=src.dtype)

    def area(part: np.ndarray, size: tuple[int, int]) -> np.ndarray:  # size = (width, height)
        return cv2.resize(np.ascontiguousarray(part), size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0])

    if fh and fw:
        out[:fh, :fw] = area(src[:fh * k, :fw * k], (fw, fh))
    if ow > fw and fh:
        out[:fh, fw] = area(src[:fh * k, fw * k:], (1, fh))[:, 0]
    if oh > fh and fw:
        out[fh, :fw] = area(src[fh * k:, :fw * k], (fw, 1))[0]
    if oh > fh and ow > fw:
        out[fh, fw] = area(src[fh * k:, fw * k:], (1, 1))[0, 0]
    return out
