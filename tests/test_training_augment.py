"""Training augmentation on a real training film: shapes, determinism, and the style randomisation of
``--style-randomise`` (blur or unsharp masking, CLAHE, noise; or wide-mask local contrast) really changing
the film's look."""

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
    for style_randomise in (False, True, "all", "sharpness", "local-contrast"):
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


def _local_contrast(img):
    """Spread of the film's large-scale detail: the film minus its wide blur (5 % of its size)."""
    wide = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.05 * max(img.shape))
    return float((img.astype(np.float32) - wide).std())


def test_local_contrast_gives_views_with_more_and_with_less_of_it(film):
    from cxviewer.training.augment import local_contrast

    base = _local_contrast(film)
    looks = [_local_contrast(local_contrast(film, np.random.default_rng(seed))) for seed in range(40)]
    assert min(looks) < 0.75 * base and max(looks) > 1.4 * base
    out = local_contrast(film, np.random.default_rng(5))
    assert out.shape == film.shape and out.dtype == np.uint8
    # the anatomy stays where it was: the view still correlates strongly with the film
    assert np.corrcoef(out.ravel().astype(float), film.ravel().astype(float))[0, 1] > 0.8
