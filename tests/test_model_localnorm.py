"""Local-contrast normalisation on real films (``equalize_hist+lowpass[:SIGMA]+localnorm``): copies of one film
given more or less wide unsharp masking (the large-scale processing hospitals apply in different amounts) reach the
network with the same amount of large-scale detail and far more alike than without it; the anatomy stays; the name
parses, and a blank film passes unharmed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cxviewer.model.preprocess import normalise_local_contrast, prepare
from cxviewer.model.standardise import (
    LOCALNORM_SCALE,
    LOCALNORM_TARGET,
    check_standardise,
    local_contrast_normalised,
    lowpass_sigma,
)

SIZE = 128
NAME = "equalize_hist+lowpass+localnorm"


@pytest.fixture(scope="module")
def film(shared_dir):
    path = sorted((shared_dir / "data" / "cxr-crosssource" / "images" / "normal").glob("*.jpg"))[3]
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def _wide_unsharp(img: np.ndarray, amount: float) -> np.ndarray:
    sigma = 0.05 * max(img.shape)
    blur = cv2.GaussianBlur(img.astype(np.float32), (0, 0), sigma)
    return np.clip(img + amount * (img - blur), 0, 255).astype(np.uint8)


def _grey(tensor: np.ndarray) -> np.ndarray:
    return tensor[..., 2] * 255.0  # the 'original' channel, in grey levels


def _large_scale_detail(grey: np.ndarray) -> float:
    x = grey.astype(np.float32)
    return float((x - cv2.GaussianBlur(x, (0, 0), LOCALNORM_SCALE)).std())


def test_more_or_less_wide_unsharp_masking_reaches_the_network_as_one_amount(film):
    more, less = _wide_unsharp(film, 1.0), _wide_unsharp(film, -0.5)
    plain = [_grey(prepare(f, SIZE, standardise="equalize_hist+lowpass")[0]) for f in (more, less)]
    normed = [_grey(prepare(f, SIZE, standardise=NAME)[0]) for f in (more, less)]
    # without it the processed copies differ plainly in local contrast; with it both carry the target amount
    assert _large_scale_detail(plain[0]) > 1.3 * _large_scale_detail(plain[1])
    for g in normed:
        assert _large_scale_detail(g) == pytest.approx(LOCALNORM_TARGET, rel=0.1)
    assert np.abs(normed[0] - normed[1]).mean() < 0.75 * np.abs(plain[0] - plain[1]).mean()


def test_the_anatomy_stays(film):
    plain = _grey(prepare(film, SIZE, standardise="equalize_hist+lowpass")[0])
    normed = _grey(prepare(film, SIZE, standardise=NAME)[0])
    assert np.corrcoef(plain.ravel(), normed.ravel())[0, 1] > 0.9
    # the coarse grey levels (the blurred film) are untouched: only the detail around them is rescaled
    coarse = [cv2.GaussianBlur(g, (0, 0), 3 * LOCALNORM_SCALE) for g in (plain, normed)]
    assert np.abs(coarse[0] - coarse[1]).mean() < 6.0


def test_the_name_parses_and_wrong_ones_are_refused(film):
    assert local_contrast_normalised(NAME) and lowpass_sigma(NAME) == 1.5
    assert lowpass_sigma("equalize_hist+lowpass:2.5+localnorm") == 2.5
    assert not local_contrast_normalised("equalize_hist+lowpass") and not local_contrast_normalised(None)
    for bad in ("equalize_hist+localnorm", "equalize_hist+lowpass+localnorm2", "equalize_hist+lowpass:+localnorm",
                "equalize_hist+lowpass+localnorm+localnorm"):
        with pytest.raises(ValueError, match="unknown input standardisation"):
            check_standardise(bad)
        with pytest.raises(ValueError, match="unknown input standardisation"):
            prepare(film, SIZE, standardise=bad)


def test_a_blank_film_passes_unharmed():
    blank = np.full((40, 50), 93, np.uint8)
    np.testing.assert_array_equal(normalise_local_contrast(blank, LOCALNORM_SCALE, LOCALNORM_TARGET), blank)
    tensor, _ = prepare(blank, SIZE, standardise=NAME)
    assert np.isfinite(tensor).all()
