"""Built-in window presets for radiographs.

CR/DX pixel values are not calibrated like CT Hounsfield units, so fixed numbers (the CT lung
window -600/1500) mean nothing here. Each built-in preset is a range of *brightness* percentiles of
the image's own histogram: Lung spreads the dark end (aerated lung) over the grey scale, Mediastinum
the bright soft-tissue end, Bone a wide range up to the very brightest values (ribs over the lungs,
spine), Auto the whole useful range. Brightness follows
the displayed polarity, so for MONOCHROME1 (high value = dark) the percentiles are mirrored. The
result is an ordinary linear window (centre, width) in modality units that ``apply_voi`` renders.
Lung, Mediastinum and Bone are chest windows: ``presets_for`` offers them for chest films only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cxviewer.imaging.lut import without_padding

_MAX_SAMPLES = 250_000


@dataclass(frozen=True)
class BuiltinPreset:
    name: str
    low_pct: float  # brightness percentile mapped to black
    high_pct: float  # brightness percentile mapped to white
    explanation: str


LUNG = BuiltinPreset("Lung", 2.0, 65.0, "dark end of the histogram: lung parenchyma")
MEDIASTINUM = BuiltinPreset("Mediastinum", 40.0, 99.5, "bright end: mediastinum, heart, lines and tubes")
BONE = BuiltinPreset("Bone", 25.0, 99.9, "wide, up to the brightest values: ribs over the lungs, spine")
AUTO = BuiltinPreset("Auto", 1.0, 99.0, "1st to 99th percentile of the histogram")
BUILTIN_PRESETS = (LUNG, MEDIASTINUM, BONE, AUTO)
CHEST_PRESETS = BUILTIN_PRESETS
OTHER_PRESETS = (AUTO,)  # with the header's own windows: no "Lung" on a hip


def presets_for(rad: Any) -> tuple[BuiltinPreset, ...]:
    """The built-in presets that make sense for ``rad``: the chest presets for a chest film (or one
    whose header does not say: plain images, unfamiliar body parts), only Auto when the header names
    another body part or the modality is not projection radiography."""
    if rad is None:
        return CHEST_PRESETS
    from cxviewer.model.scope import anatomy_problem, modality_problem

    descriptions = [getattr(rad, "study_description", ""), getattr(rad, "series_description", "")]
    if anatomy_problem(getattr(rad, "body_part", "") or "", descriptions) or \
            modality_problem(getattr(rad, "modality", "") or ""):
        return OTHER_PRESETS
    return CHEST_PRESETS


def _sample(pixels: np.ndarray, padding: tuple[float, float] | None = None) -> np.ndarray:
    step = max(1, int(np.ceil(np.sqrt(pixels.size / _MAX_SAMPLES))))
    values = np.asarray(pixels[::step, ::step], dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    kept = without_padding(values, padding)  # Pixel Padding is not part of the image
    values = kept if kept.size else values
    # Exact extremes are usually padding, collimator shutters or saturated detector: leave them out
    # when enough other values remain.
    if values.size:
        lo, hi = values.min(), values.max()
        inner = values[(values > lo) & (values < hi)]
        if inner.size >= max(16, values.size // 10):
            values = inner
    return values


def histogram_window(pixels: np.ndarray, reversed_display: bool, low_pct: float,
                     high_pct: float, padding: tuple[float, float] | None = None) -> tuple[float, float]:
    """Linear window (centre, width) whose ends sit at the given brightness percentiles (``reversed_display``:
    higher values are shown darker, :attr:`Radiograph.shown_reversed`)."""
    values = _sample(pixels, padding)
    if values.size == 0:
        return 0.0, 1.0
    if reversed_display:
        low_pct, high_pct = 100.0 - high_pct, 100.0 - low_pct
    lo, hi = np.percentile(values, [low_pct, high_pct])
    # a flat histogram still needs a positive width; keep it tiny relative to the data range
    width = max(float(hi - lo), float(values.max() - values.min()) * 1e-3, 1e-6)
    return float(lo + hi) / 2.0, width


def builtin_window(preset: BuiltinPreset, pixels: np.ndarray, reversed_display: bool,
                   padding: tuple[float, float] | None = None) -> tuple[float, float]:
    return histogram_window(pixels, reversed_display, preset.low_pct, preset.high_pct, padding)
