"""The Grad-CAM heat map drawn over the radiograph, in image pixel coordinates.

It is a child of the image view's ``overlay_parent()``, so it follows zoom, pan, rotation and
flips exactly. Transparency rises where the map is weak, so only the model's evidence is tinted.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

MAX_SIDE = 1024  # the map is smooth: a screen-sized copy keeps memory and repaint small


class HeatmapOverlay:
    def __init__(self, parent_item: pg.GraphicsObject):
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setParentItem(parent_item)
        self.item.setZValue(10)
        self.item.setVisible(False)
        self._heatmap: np.ndarray | None = None
        self._colormap = "inferno"
        self._opacity = 0.45
        self._wanted = False

    def set_heatmap(self, heatmap: np.ndarray | None) -> None:
        """Show ``heatmap`` (float [0, 1] on the image's full pixel grid) or clear it with None."""
        self._heatmap = heatmap
        if heatmap is None:
            self.item.clear()
            self.item.setVisible(False)
            return
        h, w = heatmap.shape
        step = max(1, int(np.ceil(max(h, w) / MAX_SIDE)))
        small = heatmap[::step, ::step]
        self.item.setImage(self._rgba(small), autoLevels=False)
        self.item.setRect(0, 0, w, h)  # stretch back onto the full image grid
        self.item.setVisible(self._wanted)

    def _rgba(self, heat: np.ndarray) -> np.ndarray:
        cmap = pg.colormap.get(self._colormap)
        lut = cmap.getLookupTable(0.0, 1.0, 256, alpha=False)
        idx = np.clip((heat * 255).astype(np.int32), 0, 255)
        rgba = np.empty(heat.shape + (4,), dtype=np.uint8)
        rgba[..., :3] = lut[idx]
        rgba[..., 3] = np.clip(heat * 2.0, 0.0, 1.0) * 255 * self._opacity
        return rgba

    def set_visible(self, visible: bool) -> None:
        self._wanted = visible
        self.item.setVisible(visible and self._heatmap is not None)

    def set_opacity(self, opacity: float) -> None:
        self._opacity = float(opacity)
        self.set_heatmap(self._heatmap)

    def set_colormap(self, name: str) -> None:
        self._colormap = name
        self.set_heatmap(self._heatmap)

    @property
    def visible(self) -> bool:
        return self.item.isVisible()

    @property
    def heatmap(self) -> np.ndarray | None:
        return self._heatmap
