"""The area shrink of an 8-bit film (what ``cv2.resize`` with ``INTER_AREA`` computes), from the film's integral
image: each output pixel is the mean of the film over its cell, partial pixels at the cell's edges weighted by how
much of them it covers.

A film's two shrinks (to the lung segmenter's input, and of the lung crop to the classifier's) were most of the
work around the two networks. OpenCV's area resize with a ratio that is not a whole number walks a table of
weights for every source pixel, one output row band per thread (7.5 ms for a 1955 x 1841 film on one core). Here
OpenCV's integral image (one vectorised pass, under 1 ms) gives the sums over whole pixels, and only the rows and
columns at the cells' edges are read from it: the film's area integral is bilinear inside each pixel, so a cell's
sum with fractional edges is the integral read at its four corners with linear weights (exact: the integral of a
piecewise-constant image). The cells' sums are formed in float64 and rounded once, half to even as OpenCV's
``saturate_cast`` does.

That is the exact area mean; OpenCV sums the same weighted pixels in float32, so the two differ where the exact
mean lies within a float32 rounding of a half grey level: by one grey level, at about 3 pixels in 1,000 of real
films' shrinks (198 training and cross-source films) and fewer on random ones (tests/test_model_area_shrink.py).
Through the bundled model, on 498 films no answer changed and one film's probabilities moved by 0.018 (its lung
box a pixel wider); the model cards' figures were measured again with this shrink.

The integral is int32, which wraps past 2**31 on a large film: only differences of it are used (a cell's sum, a
column's or a row's partial sum, one pixel), taken in uint32 (modulo 2**32, so exact while each is below 2**32,
which :func:`_integral_applies` checks). OpenCV takes another path (block sums, rounded its own way) when a ratio of
sizes is a whole number; those shrinks, and any that does not shrink both ways, are left to ``cv2.resize``.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_square(image: np.ndarray, size: int) -> np.ndarray:
    """A film resized to ``size`` x ``size`` as the models' inputs are made: the area shrink when either side
    shrinks (:func:`shrink`), else a linear resize."""
    if max(image.shape[:2]) > size:
        return shrink(image, size, size)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """The area mean of a 2-D uint8 ``image`` on a ``width`` x ``height`` grid (``cv2.resize(image, (width, height),
    interpolation=cv2.INTER_AREA)`` to within one grey level, see the module's text)."""
    if not _integral_applies(image, width, height):
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    h, w = image.shape
    total = cv2.integral(image, sdepth=cv2.CV_32S).view(np.uint32)  # (h + 1, w + 1): sums over rows < y, columns < x
    ys, fy = _edges(h, height)
    xs, fx = _edges(w, width)
    n, m = height + 1, width + 1
    # the integral at the four whole-pixel corners around each cell corner: A at (y, x), B at (y, x + 1),
    # C at (y + 1, x), D at (y + 1, x + 1); read as one block of rows and columns
    corners = total[np.ix_(np.concatenate([ys, ys + 1]), np.concatenate([xs, xs + 1]))]
    a, b, c, d = corners[:n, :m], corners[:n, m:], corners[n:, :m], corners[n:, m:]
    # bilinear inside the corner's pixel: A + fx (B - A) + fy (C - A) + fx fy (D - C - B + A). A's differences
    # between neighbouring corners are the cells' whole-pixel sums; the other terms are small sums (a column of
    # the rows above, a row of the columns left of it, one pixel), each exact in uint32 before it becomes a float
    fy, fx = fy[:, np.newaxis], fx[np.newaxis, :]
    part = fx * (b - a).astype(np.float64)
    part += fy * (c - a).astype(np.float64)
    part += (fx * fy) * (d - c - b + a).astype(np.float64)
    sums = np.diff(np.diff(part, axis=0), axis=1)
    sums += np.diff(np.diff(a, axis=0), axis=1)  # uint32: wrapped differences of the wrapped integral, exact
    sums *= width * height / (w * h)
    return _round(sums)


def _edges(n_src: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_out + 1`` cell edges on a source axis of ``n_src`` pixels: each edge's whole pixel and the
    fraction past it (the last edge is pixel ``n_src - 1`` with fraction 1, so the integral's last row is read)."""
    pos = np.arange(n_out + 1, dtype=np.float64) * n_src / n_out
    whole = np.minimum(np.floor(pos).astype(np.intp), n_src - 1)
    return whole, pos - whole


def _round(x: np.ndarray) -> np.ndarray:
    """float -> uint8 as OpenCV's ``saturate_cast<uchar>`` does (round half to even, clip)."""
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _integral_applies(image: np.ndarray, width: int, height: int) -> bool:
    h, w = image.shape[:2]
    if image.ndim != 2 or image.dtype != np.uint8 or h < 2:
        return False
    if not (w > width and h > height):  # not a shrink both ways: OpenCV interpolates instead
        return False
    if 255 * (max(h, w) + 1) * (max(h // height, w // width) + 2) >= 2**32:  # a sum would not fit in uint32
        return False
    return w % width != 0 and h % height != 0  # a whole ratio: OpenCV's block-sum path
