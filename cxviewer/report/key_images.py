"""The key images of a report PDF as arrays (Qt-free): the radiograph as displayed, downsampled to
print size, and the Grad-CAM overlay drawn over it as the viewer draws it, with its colour bar.
"""

from __future__ import annotations

import numpy as np

from cxviewer.report.annotation_overlay import with_annotations
from cxviewer.report.pdf_options import PdfOptions

MAX_IMAGE_SIDE = 1400  # px embedded per key image (about 300 dpi at the printed size)

# the viewer's colour map names -> OpenCV's (same definitions as matplotlib/pyqtgraph; CET-R4 is a rainbow)
_COLORMAPS = {"inferno": "COLORMAP_INFERNO", "viridis": "COLORMAP_VIRIDIS", "plasma": "COLORMAP_PLASMA",
              "magma": "COLORMAP_MAGMA", "CET-R4": "COLORMAP_TURBO", "jet": "COLORMAP_JET",
              "turbo": "COLORMAP_TURBO", "hot": "COLORMAP_HOT"}


def _fit(img: np.ndarray, max_side: int = MAX_IMAGE_SIDE) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def colorize(values_u8: np.ndarray, colormap: str = "jet") -> np.ndarray:
    """uint8 values -> RGB uint8 with an OpenCV colour map."""
    import cv2

    cmap = getattr(cv2, _COLORMAPS.get(colormap, "COLORMAP_INFERNO"))
    return cv2.cvtColor(cv2.applyColorMap(values_u8, cmap), cv2.COLOR_BGR2RGB)


def overlay_image(display: np.ndarray, heatmap: np.ndarray, colormap: str = "inferno",
                  opacity: float = 0.45) -> np.ndarray:
    """Grad-CAM over the displayed radiograph as the viewer draws it: alpha = opacity * min(2 h, 1),
    so cold areas stay grey and only the model's evidence is tinted."""
    import cv2

    heat = np.asarray(heatmap, dtype=np.float32)
    if heat.ndim != 2:
        raise ValueError("heatmap must be 2-D")
    if heat.shape != display.shape:
        heat = cv2.resize(heat, (display.shape[1], display.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat = np.nan_to_num(np.clip(heat, 0.0, 1.0))
    color = colorize((heat * 255).astype(np.uint8), colormap).astype(np.float32)
    grey = np.repeat(display[..., None], 3, axis=2).astype(np.float32)
    alpha = (float(opacity) * np.minimum(2.0 * heat, 1.0))[..., None]
    return np.clip(grey * (1 - alpha) + color * alpha + 0.5, 0, 255).astype(np.uint8)


def key_images(image: np.ndarray, heatmap: np.ndarray | None, options: PdfOptions) -> dict[str, np.ndarray]:
    """The images the PDF embeds, by name: "radiograph" and, with a heatmap, "overlay" and "colorbar"."""
    import cv2

    shown = _fit(image)  # downsample first: the overlay is then computed at print size only
    res = {"radiograph": with_annotations(shown, options.annotation_layer)}
    if heatmap is not None:
        heat = np.asarray(heatmap, dtype=np.float32)
        if heat.ndim == 2 and heat.shape != shown.shape:
            area = heat.shape[0] > shown.shape[0]
            heat = cv2.resize(heat, (shown.shape[1], shown.shape[0]),
                              interpolation=cv2.INTER_AREA if area else cv2.INTER_LINEAR)
        res["overlay"] = with_annotations(overlay_image(shown, heat, options.colormap, options.overlay_opacity),
                                          options.annotation_layer)
        # the key is drawn as the overlay is: the same tint and opacity over a mid-grey film (low attention leaves
        # the film untinted, the strongest is a partial tint), not the bare colour map from black
        ramp = np.repeat(np.linspace(0.0, 1.0, 256, dtype=np.float32)[None, :], 8, axis=0)
        res["colorbar"] = overlay_image(np.full(ramp.shape, 128, np.uint8), ramp, options.colormap,
                                        options.overlay_opacity)
    return res
