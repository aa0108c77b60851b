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
