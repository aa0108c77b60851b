"""Spectrum standardisation: every film's radial amplitude spectrum brought to one template.

Why: on the training films the class 'other pneumonia' carries about 11 % more fine-detail energy
than 'normal' (both from one hospital), and normal films from other hospitals (sharper teaching
films) carry as much as that hospital's pneumonia films: a model that reads fine-detail energy calls
them pneumonia. Matching each input's radially averaged amplitude spectrum to a template removes
how sharp or grainy a source's films are, leaving the arrangement (phase) of the detail, where the
findings are. The template is the mean log amplitude of the training films (written in the card,
like COVID-CXNet's fixed template image for histogram matching); the coarsest frequencies
(below ``KEEP_BELOW`` cycles per image: the large anatomy) are left alone.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

KEEP_BELOW = 4  # radial frequencies (cycles per image) left as they are
GAIN_LIMIT = 8.0  # no ring is amplified or attenuated by more than this factor


@lru_cache(maxsize=4)
def _rings(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each FFT bin's radial frequency (rounded, cycles per image, capped at size // 2) and each ring's bin count."""
    f = np.fft.fftfreq(size)
    radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2) * size
    rings = np.minimum(np.rint(radius).astype(np.intp), size // 2)
    rings.setflags(write=False)
    return rings, np.bincount(rings.ravel(), minlength=size // 2 + 1)


def _spectrum(image_u8: np.ndarray) -> tuple[np.ndarray, float]:
    grey = image_u8.astype(np.float64)
    mean = float(grey.mean())
    return np.fft.fft2(grey - mean), mean


def radial_log_amplitude(image_u8: np.ndarray) -> np.ndarray:
    """Mean log amplitude per ring (size // 2 + 1 values) of a square 8-bit image, its mean removed."""
    size = _square_size(image_u8)
    rings, counts = _rings(size)
    spectrum, _ = _spectrum(image_u8)
    return _ring_profile(np.abs(spectrum), rings, counts)


def _ring_profile(amplitude: np.ndarray, rings: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return np.log(np.bincount(rings.ravel(), amplitude.ravel(), minlength=len(counts)) / counts + 1e-6)


def _square_size(image: np.ndarray) -> int:
    if image.ndim != 2 or image.shape[0] != image.shape[1]:
        raise ValueError(f"spectrum standardisation needs a square 2-D image, got {image.shape}")
    return int(image.shape[0])


def template_of(images_u8) -> list[float]:
    """The template: the mean radial log amplitude of these (square, same-size) 8-bit images."""
    profiles = [radial_log_amplitude(img) for img in images_u8]
    if not profiles:
        raise ValueError("no images to make a spectrum template from")
    return [round(float(v), 5) for v in np.mean(profiles, axis=0)]


def match_spectrum(image_u8: np.ndarray, template) -> np.ndarray:
    """The image with each ring's mean amplitude scaled to the template's (rings from ``KEEP_BELOW`` up), as uint8."""
    size = _square_size(image_u8)
    target = np.asarray(template, dtype=np.float64)
    if target.shape != (size // 2 + 1,):
        raise ValueError(f"a spectrum template for {2 * (len(target) - 1)} px inputs cannot standardise {size} px ones")
    rings, counts = _rings(size)
    spectrum, mean = _spectrum(image_u8)
    gain = np.exp(np.clip(target - _ring_profile(np.abs(spectrum), rings, counts), -np.log(GAIN_LIMIT), np.log(GAIN_LIMIT)))
    gain[:KEEP_BELOW] = 1.0
    out = np.real(np.fft.ifft2(spectrum * gain[rings])) + mean
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def standardise_spectrum(resized_u8: np.ndarray, template) -> np.ndarray:
    """The 'equalize_hist+spectrum' step after histogram equalisation: match the spectrum, then equalise again
    (the matching moves grey levels; the network must still get the same grey-level distribution)."""
    return cv2.equalizeHist(match_spectrum(resized_u8, template))
