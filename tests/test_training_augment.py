"""Training augmentation on a real training film: shapes, determinism, and the style randomisation of
``--style-randomise`` (blur or unsharp masking, CLAHE, noise) really changing the film's look."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from cxviewer.training.augment import augment, style

FILM = Path(__file__).resolve().parents[2] / "shared" / "data" / "cxr" / "images" / "normal"


@pytest.fixture(scope="module")
def film():
    files = sorted(FILM.glob("*.jpg"))[:1] if FILM.is_dir() else []
    if not files:
        pytest.skip("../shared/data/cxr is not here")
    return cv2.imread(str(files[0]), cv2.IMREAD_GRAYSCALE)


def _sharpness(img):
    return float(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F).var())


def test_views_are_grey_uint8_and_reproducible_from_their_seed(film):
    for style_randomise in (False, True, "all", "sharpness"):
        a = augment(film, np.random.default_rng(7), style_randomise)
        b = augment(film, np.random.default_rng(7), style_randomise)
        assert a.dtype == np.uint8 and a.ndim == 2 and np.array_equal(a, b)


def test_style_spans_softer_and_sharper_looks_than_the_film(film):
    base = _sharpness(film)
    looks = [_sharpness(style(film, np.random.default_rng(seed))) for seed in range(40)]
    assert min(looks) < 0.7 * base and max(looks) > 1.5 * base  # blur and unsharp masking both occur
    out = style(film, np.random.default_rng(3))
    assert out.shape == film.shape and out.dtype == np.uint8


def test_sharpness_only_sharpens(film):
    from cxviewer.training.augment import sharpness

    base = _sharpness(film)
    looks = [_sharpness(sharpness(film, np.random.default_rng(seed))) for seed in range(20)]
    assert min(looks) > base and max(looks) > 2 * base
