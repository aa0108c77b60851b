"""The one preprocessing function shared by training and inference (COVID-CXNet recipe).

8-bit display image -> (optional crop) -> resize to the model's square input -> three channels
(BEASF with gamma 1.5, CLAHE clip 2.0 on 8 x 8 tiles, the resized original) scaled to [0, 1].
:class:`InputGeometry` remembers every crop/resize step so a map computed on the model input
(Grad-CAM) can be put back exactly onto the original pixel grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cxviewer.model.area_shrink import to_square
from cxviewer.model.standardise import (
    LOCALNORM_SCALE,
    LOCALNORM_TARGET,
    check_standardise,
    local_contrast_normalised,
    lowpass_sigma,
)

BEASF_GAMMA = 1.5
CLAHE_CLIP = 2.0
CLAHE_TILES = (8, 8)


def _sigmoid_segment(levels: np.ndarray, hist: np.ndarray, lo: int, hi: int, gamma: float) -> np.ndarray:
    """Map grey levels ``lo..hi`` through the part's adaptive sigmoid, stretched back onto ``[lo, hi]``."""
    width = hi - lo
    if width <= 0:
        return levels.astype(np.float64)
    total = hist.sum()
    if total <= 0:
        median = (lo + hi) / 2.0
    else:
        cdf = np.cumsum(hist) / total
        median = lo + int(np.searchsorted(cdf, 0.5))
    x = 5.0 * (levels - median) / width
    s = 1.0 / (1.0 + np.exp(-gamma * x))
    span = s[-1] - s[0]
    if span <= 1e-12:
        return levels.astype(np.float64)
    return lo + (s - s[0]) / span * width


def beasf_lut(image: np.ndarray, gamma: float = BEASF_GAMMA) -> np.ndarray:
    """Bi-histogram equalisation with adaptive sigmoid functions (Arriaga-Garcia et al.) as a 256-entry LUT.

    The histogram is split at the mean grey level m; each half gets a sigmoid centred on its own
    median, spanning about 5 units over the half's range, stretched so its ends land on the
    half's ends (0..m and m..255).
    """
    hist = np.bincount(image.ravel(), minlength=256).astype(np.float64)
    m = int(round(float(image.mean())))
    levels = np.arange(256, dtype=np.float64)
    lut = np.empty(256, dtype=np.float64)
    lut[: m + 1] = _sigmoid_segment(levels[: m + 1], hist[: m + 1], 0, m, gamma)
    lut[m:] = _sigmoid_segment(levels[m:], hist[m:], m, 255, gamma)
    return np.clip(np.rint(lut), 0, 255).astype(np.uint8)


def beasf(image: np.ndarray, gamma: float = BEASF_GAMMA) -> np.ndarray:
    return cv2.LUT(image, beasf_lut(image, gamma))


def clahe(image: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=CLAHE_TILES).apply(image)


@dataclass(frozen=True)
class InputGeometry:
    """Where the model input came from: ``crop`` = (y0, x0, y1, x1) in source pixels, then resized."""

    source_shape: tuple[int, int]
    crop: tuple[int, int, int, int]
    input_size: int
    lungs_found: bool | None = None  # for a lung-cropping model: did the segmenter find a plausible pair?

    def to_source(self, small_map: np.ndarray) -> np.ndarray:
        """Resample a map over the model input (any resolution) onto the full source pixel grid.

        The map is stretched over the crop box with pixel-centre alignment (what the forward
        resize did) and is zero outside the crop.
        """
        y0, x0, y1, x1 = self.crop
        out = np.empty(self.source_shape, dtype=np.float32)
        # zero only around the crop: the map is drawn over the rest (a film's map is ~14 MB, and memory the
        # allocator hands back is not zero, so np.zeros would write all of it once more)
        out[:y0], out[y1:], out[y0:y1, :x0], out[y0:y1, x1:] = 0, 0, 0, 0
        region = out[y0:y1, x0:x1]
        # resized straight into the crop's place: no full-size intermediate copied over (a film's map is ~14 MB)
        drawn = cv2.resize(small_map.astype(np.float32, copy=False), (x1 - x0, y1 - y0), dst=region,
                           interpolation=cv2.INTER_LINEAR)
        if drawn.ctypes.data != region.ctypes.data:  # OpenCV made its own array after all
            region[...] = drawn
        return out


def detail_at(x: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(the float32 film ``x`` blurred by a Gaussian of sigma ``scale`` px, the detail left (``x`` minus that blur),
    the detail's standard deviation): the one measure of a film's local contrast at a scale."""
    low = cv2.GaussianBlur(x, (0, 0), scale)
    detail = x - low
    return low, detail, float(detail.std())


def normalise_local_contrast(grey: np.ndarray, scale: float, target: float, passes: int = 3) -> np.ndarray:
    """``grey`` (uint8) with its detail at ``scale`` (the film minus a Gaussian blur of sigma ``scale`` px) scaled to a
    standard deviation of ``target`` grey levels: the amount of wide unsharp masking a source applies is taken away,
    the pattern of the detail kept. Rescaling the detail moves the blur a little (and the grey range clips), so it
    is done ``passes`` times: three bring films from half to twice the amount within about 3 % of the target. A
    flat film (no detail) is returned as it is."""
    x = grey.astype(np.float32)
    for _ in range(passes):
        low, detail, spread = detail_at(x, scale)
        if spread < 1e-3:
            return grey
        x = np.clip(low + detail * (target / spread), 0.0, 255.0)
    return np.rint(x).astype(np.uint8)


def to_uint8_grey(image: np.ndarray) -> np.ndarray:
    """Accept a 2-D uint8 display image (what the viewer shows); reject anything else loudly."""
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected an 8-bit display image, got {image.dtype}")
    return np.ascontiguousarray(image)


def prepare(
    image: np.ndarray,
    input_size: int,
    crop: tuple[int, int, int, int] | None = None,
    standardise: str | None = None,
    spectrum_template=None,
    lung_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, InputGeometry]:
    """Display image -> (input_size, input_size, 3) float32 in [0, 1] and its geometry.

    ``standardise="equalize_hist"`` equalises the grey histogram of the resized (cropped) film before the
    three channels are made: every film then reaches the network with the same grey-level distribution,
    whatever its source's exposure, processing and contrast (COVID-CXNet's histogram matching to a
    template is the same idea). ``"equalize_hist+spectrum"`` then brings the film's radial amplitude spectrum to
    ``spectrum_template`` (:mod:`cxviewer.model.spectrum`: how sharp or grainy a source's films are no longer
    reaches the network). ``"equalize_hist+lowpass[:SIGMA]"`` blurs the equalised film (Gaussian, SIGMA pixels of a
    128 px input, default :data:`standardise.DEFAULT_LOWPASS_SIGMA`): the fine detail whose amount differs between
    sources' films, not between diseases, never reaches the network; ``"...+localnorm"`` then brings its large-scale
    local contrast to one amount (:func:`normalise_local_contrast`). ``lung_mask`` (uint8 0/1 on the cut region's
    pixel grid) keeps only the lungs in view: the input is multiplied by :func:`lung_mask.lung_window` (a model trained so: the card's
    ``input.mask_outside_lungs``). A model trained so must be run so: the card's ``input`` says it.
    """
    sigma = lowpass_sigma(check_standardise(standardise))
    if standardise == "equalize_hist+spectrum" and spectrum_template is None:
        raise ValueError("'equalize_hist+spectrum' needs the model's spectrum template (the card's input.spectrum_template)")
    image = to_uint8_grey(image)
    h, w = image.shape
    if crop is None:
        crop = (0, 0, h, w)
    y0, x0, y1, x1 = crop
    region = image[y0:y1, x0:x1]
    resized = to_square(region, input_size)
    if standardise is not None:  # every standardisation starts with the equalisation
        resized = cv2.equalizeHist(resized)
    if sigma is not None:
        resized = cv2.GaussianBlur(resized, (0, 0), sigma * input_size / 128.0)
    if local_contrast_normalised(standardise):
        resized = normalise_local_contrast(resized, LOCALNORM_SCALE * input_size / 128.0, LOCALNORM_TARGET)
    if standardise == "equalize_hist+spectrum":
        from cxviewer.model.spectrum import standardise_spectrum

        resized = standardise_spectrum(resized, spectrum_template)
    channels = np.stack([beasf(resized), clahe(resized), resized], axis=-1)
    tensor = channels.astype(np.float32) * (1.0 / 255.0)
    if lung_mask is not None:
        from cxviewer.model.lung_mask import lung_window

        if lung_mask.shape != region.shape:
            raise ValueError(f"the lung mask {lung_mask.shape} does not cover the cut region {region.shape}")
        tensor *= lung_window(lung_mask, input_size)[..., np.newaxis]
    return tensor, InputGeometry((h, w), (y0, x0, y1, x1), input_size)
