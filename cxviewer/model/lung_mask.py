"""Lung masks, Qt-free and TensorFlow-free: the segmenter's input, its clean-up, the crop box, the outline.

The crop follows COVID-CXNet: dilate the mask (5 x 5 kernel, 3 iterations, at the segmenter's
resolution), take the bounding box, add a margin, and let :func:`preprocess.prepare` resize that
box to the classifier's input. A mask that does not look like two lungs gives no box, and the
classifier then sees the whole film (and says so).
"""

from __future__ import annotations

import cv2
import numpy as np

from cxviewer.model.area_shrink import to_square

DILATE_KERNEL = 5
DILATE_ITERATIONS = 3
MARGIN = 0.05  # of the box's height/width, on every side
MIN_AREA, MAX_AREA = 0.08, 0.80  # plausible share of the film covered by lungs
MIN_SPAN = 0.30  # the box must cover at least this share of the film's height and width


def segmenter_input(image_u8: np.ndarray, size: int) -> np.ndarray:
    """Histogram-equalised (as the paper does before its U-Net), resized, (size, size, 1) float32 in [0, 1]."""
    eq = cv2.equalizeHist(np.ascontiguousarray(image_u8))
    small = to_square(eq, size)
    return (small.astype(np.float32) * (1.0 / 255.0))[..., np.newaxis]


def clean_mask(prob: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Threshold, then keep the two largest blobs (the lungs) and any blob at least a fifth of the largest."""
    binary = (prob >= threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return binary
    areas = stats[1:, cv2.CC_STAT_AREA]
    order = np.argsort(areas)[::-1]
    keep = [int(i) + 1 for rank, i in enumerate(order) if rank < 2 or areas[i] >= 0.2 * areas[order[0]]]
    kept = np.zeros(n, np.uint8)  # one entry per blob label: 1 for the blobs kept (a lookup, not np.isin's sort)
    kept[keep] = 1
    return kept[labels]


def to_source(mask_small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A mask at the segmenter's resolution -> uint8 0/1 on the source pixel grid."""
    up = cv2.resize(mask_small.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return (up >= 0.5).view(np.uint8)  # the booleans' bytes are 0/1 already: no second full-size copy


def plausible(mask_small: np.ndarray) -> bool:
    """Does this look like a pair of lungs on a frontal chest film?"""
    area = float(mask_small.mean())
    if not MIN_AREA <= area <= MAX_AREA:
        return False
    _, _, span_x, span_y = _bounds(mask_small)
    h, w = mask_small.shape
    return span_y >= MIN_SPAN * h and span_x >= MIN_SPAN * w


def _bounds(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the mask's nonzero pixels: OpenCV's bounding rectangle, exactly the extent of
    ``np.nonzero`` (min, max + 1) without listing every pixel."""
    x, y, w, h = cv2.boundingRect(np.ascontiguousarray(mask, dtype=np.uint8) if mask.dtype != np.uint8 else mask)
    return x, y, w, h


def crop_box(mask_small: np.ndarray, shape: tuple[int, int], margin: float = MARGIN) -> tuple[int, int, int, int] | None:
    """Dilated lung bounding box with margin, in source pixels (y0, x0, y1, x1); None when the mask is implausible."""
    if not mask_small.any() or not plausible(mask_small):
        return None
    kernel = np.ones((DILATE_KERNEL, DILATE_KERNEL), np.uint8)
    dilated = cv2.dilate(mask_small.astype(np.uint8), kernel, iterations=DILATE_ITERATIONS)
    bx, by, bw, bh = _bounds(dilated)
    sh, sw = mask_small.shape
    H, W = shape
    y0, y1 = by / sh * H, (by + bh) / sh * H
    x0, x1 = bx / sw * W, (bx + bw) / sw * W
    my, mx = margin * (y1 - y0), margin * (x1 - x0)
    box = (
        int(max(0, np.floor(y0 - my))),
        int(max(0, np.floor(x0 - mx))),
        int(min(H, np.ceil(y1 + my))),
        int(min(W, np.ceil(x1 + mx))),
    )
    return box


WINDOW_DILATION = 1 / 24  # of the model input's side: how far the lung window reaches past the mask's edge
WINDOW_SOFTNESS = 1 / 64  # of the model input's side: the Gaussian sigma of the window's edge


def lung_window(mask: np.ndarray, size: int) -> np.ndarray:
    """The (size, size) float32 weight in [0, 1] a model that sees only the lungs multiplies its input by: the
    lung mask (uint8 0/1 on the crop's pixel grid) resized to the input, dilated by ``WINDOW_DILATION`` (the
    pleura, costophrenic angles and a rim of consolidation stay in view) and softened at its edge."""
    small = cv2.resize(mask.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA) >= 0.5
    radius = max(1, int(round(size * WINDOW_DILATION)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    window = cv2.dilate(small.astype(np.uint8), kernel).astype(np.float32)
    return cv2.GaussianBlur(window, (0, 0), max(0.5, size * WINDOW_SOFTNESS))


def outline(mask: np.ndarray) -> list[np.ndarray]:
    """The mask's outer contours as (N, 2) arrays of (x, y) pixel coordinates, closed (first point repeated)."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        pts = c[:, 0, :].astype(np.float32)
        if len(pts) >= 3:
            out.append(np.vstack([pts, pts[:1]]))
    return out


def dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    denom = a.sum() + b.sum()
    return 1.0 if denom == 0 else float(2.0 * np.logical_and(a, b).sum() / denom)
