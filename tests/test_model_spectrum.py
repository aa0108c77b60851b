"""Spectrum standardisation on real films: a sharp and a blurred copy of one film reach the network with the
same fine-detail energy, the coarse anatomy is left alone, and the recipe refuses to run without its template."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cxviewer.model.inputs import InputRecipe
from cxviewer.model.preprocess import prepare
from cxviewer.model.spectrum import KEEP_BELOW, match_spectrum, radial_log_amplitude, template_of

SIZE = 128


def _films(shared_dir, label: str, n: int) -> list[np.ndarray]:
    paths = sorted((shared_dir / "data" / "cxr" / "images" / label).glob("*.jpg"))[:n]
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]


def _small(film: np.ndarray) -> np.ndarray:
    return cv2.equalizeHist(cv2.resize(film, (SIZE, SIZE), interpolation=cv2.INTER_AREA))


@pytest.fixture(scope="module")
def template(shared_dir):
    return template_of([_small(f) for f in _films(shared_dir, "normal", 12) + _films(shared_dir, "pneumonia", 12)])


def _fine_detail(image: np.ndarray) -> float:
    return float(radial_log_amplitude(image)[SIZE // 8:].mean())


def test_sharp_and_blurred_copies_reach_the_same_fine_detail_energy(shared_dir, template):
    film = _small(_films(shared_dir, "normal", 30)[-1])
    sharp = cv2.addWeighted(film, 2.0, cv2.GaussianBlur(film, (0, 0), 1.5), -1.0, 0)
    blurred = cv2.GaussianBlur(film, (0, 0), 1.0)
    before = abs(_fine_detail(sharp) - _fine_detail(blurred))
    after = abs(_fine_detail(match_spectrum(sharp, template)) - _fine_detail(match_spectrum(blurred, template)))
    assert before > 0.8  # the two copies differ plainly in how much fine detail they carry
    assert after < before / 4  # the residue: rings a blurred film has almost emptied, limited by GAIN_LIMIT)


def test_matched_film_follows_the_template_and_keeps_its_coarse_rings(shared_dir, template):
    film = _small(_films(shared_dir, "covid", 5)[2])
    matched = match_spectrum(film, template)
    assert matched.dtype == np.uint8 and matched.shape == film.shape
    profile, original = radial_log_amplitude(matched), radial_log_amplitude(film)
    assert np.abs(profile[KEEP_BELOW:] - np.asarray(template)[KEEP_BELOW:]).mean() < 0.2
    np.testing.assert_allclose(profile[1:KEEP_BELOW], original[1:KEEP_BELOW], atol=0.1)
    # the arrangement of the film survives: it still correlates strongly with the original
    assert np.corrcoef(matched.ravel().astype(float), film.ravel().astype(float))[0, 1] > 0.8


def test_recipe_needs_its_template_and_uses_the_cards(shared_dir, template):
    film = _films(shared_dir, "normal", 1)[0]
    with pytest.raises(ValueError, match="template"):
        prepare(film, SIZE, standardise="equalize_hist+spectrum")
    with pytest.raises(ValueError, match="128 px"):
        prepare(film, 224, standardise="equalize_hist+spectrum", spectrum_template=template)
    tensor, _ = prepare(film, SIZE, standardise="equalize_hist+spectrum", spectrum_template=template)
    plain, _ = prepare(film, SIZE, standardise="equalize_hist")
    assert tensor.shape == (SIZE, SIZE, 3) and 0.0 <= tensor.min() and tensor.max() <= 1.0
    assert not np.array_equal(tensor, plain)

    class Card:
        input_size, standardise, spectrum_template = SIZE, "equalize_hist+spectrum", template
        mask_outside_lungs = False

    recipe = InputRecipe.of_card(Card())
    np.testing.assert_array_equal(recipe.prepare(film)[0], tensor)
