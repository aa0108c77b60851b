"""Where a Grad-CAM map puts its mass: inside the lungs, and in the outer border band (labels, markers)."""

from __future__ import annotations

import numpy as np


def mass_share(heatmap: np.ndarray, region: np.ndarray) -> float:
    """Share of the map's total mass that falls inside a boolean region (NaN for an empty map)."""
    total = float(heatmap.sum())
    return float(heatmap[region].sum() / total) if total > 0 else float("nan")


def border_band(shape: tuple[int, int], fraction: float = 0.1) -> np.ndarray:
    """Boolean mask of the outer band, ``fraction`` of each side deep: where text and markers sit."""
    h, w = shape
    band = np.ones(shape, dtype=bool)
    dy, dx = max(1, int(h * fraction)), max(1, int(w * fraction))
    band[dy : h - dy, dx : w - dx] = False
    return band


def lung_attention(pred) -> tuple[float, float] | None:
    """(share of a prediction's Grad-CAM mass inside its lung mask, the lungs' share of what the model saw);
    None without a map or a mask."""
    if pred.heatmap is None or pred.lung_mask is None:
        return None
    mask = pred.lung_mask.astype(bool)
    if not mask.any():
        return None
    y0, x0, y1, x1 = pred.input_box or (0, 0) + mask.shape
    return mass_share(pred.heatmap, mask), float(mask[y0:y1, x0:x1].mean())
