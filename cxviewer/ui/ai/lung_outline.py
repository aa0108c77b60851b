"""The lung segmenter's mask drawn as a thin contour over the radiograph, in image pixel coordinates.

Like the heat map it is a child of the image view's ``overlay_parent()``, so it follows zoom,
pan, rotation and flips. The contour runs through pixel centres (pixel ``i`` spans ``[i, i+1]``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

COLOUR = "#35d0ff"


class LungOutline:
    def __init__(self, parent_item: pg.GraphicsObject):
        pen = pg.mkPen(COLOUR, width=2)
        pen.setCosmetic(True)  # 2 screen pixels at any zoom
        self.item = pg.PlotCurveItem(pen=pen, antialias=True)
        self.item.setParentItem(parent_item)
        self.item.setZValue(11)  # above the heat map
        self.item.setVisible(False)
        self._mask: np.ndarray | None = None
        self._wanted = False

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Outline ``mask`` (uint8 0/1 on the image's pixel grid), or clear with None."""
        from cxviewer.model.lung_mask import outline  # OpenCV: not at window start-up

        self._mask = mask
        contours = outline(mask) if mask is not None else []
        if not contours:
            self.item.setData([], [])
            self.item.setVisible(False)
            return
        xs = np.concatenate([c[:, 0] for c in contours]) + 0.5
        ys = np.concatenate([c[:, 1] for c in contours]) + 0.5
        connect = np.concatenate([np.r_[np.ones(len(c) - 1, bool), False] for c in contours])
        self.item.setData(xs, ys, connect=connect)
        self.item.setVisible(self._wanted)

    def set_visible(self, visible: bool) -> None:
        self._wanted = visible
        self.item.setVisible(bool(visible and self._mask is not None and self._mask.any()))

    @property
    def visible(self) -> bool:
        return self.item.isVisible()

    @property
    def mask(self) -> np.ndarray | None:
        return self._mask

    def path_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The drawn (x, y) points, for tests and exports."""
        x, y = self.item.getData()
        return (np.array([]), np.array([])) if x is None else (np.asarray(x), np.asarray(y))
