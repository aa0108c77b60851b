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
        """Colour (the map's LUT) and alpha (opacity * min(2 h, 1)) of each heat level, as one
        256 x 4 table applied by OpenCV to the map quantised to 8 bits: this runs on the GUI thread
        when a result arrives, and per-pixel float and fancy-index numpy work took 20-90 ms there
        (5 ms this way, same bytes)."""
        import cv2

        idx = (np.clip(heat, 0.0, 1.0) * 255).astype(np.uint8)
        return cv2.LUT(cv2.merge([idx, idx, idx, idx]), self._table())

    def _table(self) -> np.ndarray:
        cmap = pg.colormap.get(self._colormap)
        rgb = cmap.getLookupTable(0.0, 1.0, 256, alpha=False)
        alpha = np.clip(np.arange(256) / 255.0 * 2.0, 0.0, 1.0) * 255 * self._opacity
        table = np.empty((256, 1, 4), np.uint8)
        table[:, 0, :3] = rgb
        table[:, 0, 3] = alpha
        return table

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
