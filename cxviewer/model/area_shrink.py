"""OpenCV's area shrink (``cv2.resize`` with ``INTER_AREA``) of an 8-bit film, the same pixels, in two halves
at once.

A film's two shrinks (to the lung segmenter's input, and of the lung crop to the classifier's) are most of
the work around the two networks, and OpenCV does each on one core: it splits an area resize by the rows
of its output, and a 192 px output is one piece. The shrink is separable, and OpenCV computes it so: for each
source row, the weighted sums across (``buf[dx] += src[sx] * alpha`` in float), then for each output row the
weighted sum of those down (``sum[dx] += beta * buf[dx]``), rounded once at the end. Here the pass across is
run on float rows, the top half of the film on this thread and the bottom half on a helper (each source
row's sums are its own, so the halves are exact), and the pass down on those float rows (its pass across has
one weight of 1: exact). The same products in the same order: the same floats, so the same pixels, which
the tests check against ``cv2.resize`` on every bundled film and on random sizes.

OpenCV takes another path (block sums) when a ratio of sizes is a whole number; those shrinks, and any that
does not shrink both ways, are left to ``cv2.resize`` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

import cv2
import numpy as np

CHUNK_ROWS = 64

Beside = Callable[[Callable[[], np.ndarray]], Future]


def to_square(image: np.ndarray, size: int, beside: Beside | None = None) -> np.ndarray:
    """A film resized to ``size`` x ``size`` as the models' inputs are made: the area shrink when either side
    shrinks (:func:`shrink`), else a linear resize."""
    if max(image.shape[:2]) > size:
        return shrink(image, size, size, beside)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)


def shrink(image: np.ndarray, width: int, height: int, beside: Beside | None = None) -> np.ndarray:
    """``cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)`` for a 2-D uint8 ``image``; with
    ``beside`` (runs a callable on another thread, returns its Future) half of it there, when that is exact."""
    h = image.shape[0]
    if beside is None or not _split_is_exact(image, width, height):
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    cut = h // 2
    across = np.empty((h, width), np.float32)  # the film's rows, each shrunk across
    lower = beside(lambda: _across(image[cut:], across[cut:]))
    _across(image[:cut], across[:cut])
    lower.result()
    return _round(cv2.resize(across, (width, height), interpolation=cv2.INTER_AREA))


def _across(rows: np.ndarray, out: np.ndarray) -> None:
    """Each of ``rows`` shrunk across into ``out``'s rows, a few dozen rows at a time (their float copy then stays
    in the processor's cache, not the whole film's, 4 bytes a pixel, pushing the networks' weights out of it)."""
    width = out.shape[1]
    for r in range(0, rows.shape[0], CHUNK_ROWS):
        part = rows[r : r + CHUNK_ROWS]
        done = cv2.resize(part.astype(np.float32), (width, part.shape[0]), dst=out[r : r + part.shape[0]],
                          interpolation=cv2.INTER_AREA)
        if done.ctypes.data != out[r:].ctypes.data:  # OpenCV made its own array after all
            out[r : r + part.shape[0]] = done


def _round(x: np.ndarray) -> np.ndarray:
    """float -> uint8 as OpenCV's ``saturate_cast<uchar>`` does (round half to even, clip)."""
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _split_is_exact(image: np.ndarray, width: int, height: int) -> bool:
    h, w = image.shape[:2]
    if image.ndim != 2 or image.dtype != np.uint8 or h < 4:
        return False
    if not (w > width and h > height):  # not a shrink both ways: OpenCV interpolates instead
        return False
    return w % width != 0 and h % height != 0  # a whole ratio: OpenCV's block-sum path
