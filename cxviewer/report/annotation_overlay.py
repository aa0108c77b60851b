"""The reader's annotations composited into the report's image (Qt-free).

The UI renders the annotations of the film on screen into an RGBA layer the size (or a scaled
copy) of the displayed image, oriented as the view shows it (cxviewer.ui.annotate.report_layer); the PDF
renderer calls ``with_annotations`` on the radiograph and on the Grad-CAM overlay before they go
into the page, so the printed figures carry the same marks and values as the screen.
"""

from __future__ import annotations

import numpy as np


def with_annotations(image: np.ndarray, layer: np.ndarray | None) -> np.ndarray:
    """``image`` (2-D grey or RGB uint8) with the RGBA ``layer`` blended on top (resized to fit);
    returned unchanged without a layer."""
    if layer is None:
        return image
    import cv2

    layer = np.asarray(layer)
    if layer.ndim != 3 or layer.shape[2] != 4 or layer.dtype != np.uint8:
        raise ValueError("the annotation layer must be an RGBA uint8 array")
    h, w = image.shape[:2]
    if layer.shape[:2] != (h, w):
        shrink = layer.shape[0] > h
        layer = cv2.resize(layer, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    alpha = layer[..., 3:4].astype(np.float32) / 255.0
    out = rgb.astype(np.float32) * (1.0 - alpha) + layer[..., :3].astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
