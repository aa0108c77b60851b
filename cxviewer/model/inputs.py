"""What the model is shown: the default display of a radiograph (C.11 window, MONOCHROME1 handled)."""

from __future__ import annotations

import numpy as np


def model_image(radiograph) -> np.ndarray:
    from cxviewer.imaging import render_display

    return render_display(radiograph)
