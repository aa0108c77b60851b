"""The styles that take a partner film, on real training films. Amplitude mixing (``--style-randomise
amplitude-mix``): the view keeps its own film's structure (Fourier phase) and takes on a share of a film of
another class's look (Fourier amplitude). Contrast matching (``contrast-match``): the view's large-scale local
contrast becomes the partner's amount, its anatomy unchanged. The batch loader pairs every film with a film of
another class; a partner style refuses to run without a partner."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cxviewer.training.augment import STYLE_NAMES, large_scale_detail, amplitude_mix, augment_with_mask, contrast_match


class _Share:
    """An rng stand-in that draws ``share`` for the mixing share."""

    def __init__(self, share: float):
        self.share = share

    def uniform(self, low, high):
        return self.share


@pytest.fixture(scope="module")
def films(training_film):
    return training_film("normal", 2), training_film("covid", 5)


def _amplitude(img):
    return np.abs(np.fft.rfft2(img.astype(np.float32)))


def _edges(img):
    return cv2.Sobel(cv2.GaussianBlur(img.astype(np.float32), (0, 0), 2.0), cv2.CV_32F, 1, 0)


def test_no_share_gives_the_film_back_and_a_full_share_takes_the_partners_amplitude(films):
    normal, covid = films
    assert np.abs(amplitude_mix(normal, covid, _Share(0.0)).astype(int) - normal).max() <= 1
    full = amplitude_mix(normal, covid, _Share(1.0))
    assert full.shape == normal.shape and full.dtype == np.uint8
    partner = cv2.resize(covid, normal.shape[::-1], interpolation=cv2.INTER_AREA)
    # the low frequencies (the look: overall contrast and processing) are the partner's, not the film's
    low = (slice(0, 16), slice(0, 16))
    own_gap = np.abs(np.log1p(_amplitude(normal)[low]) - np.log1p(_amplitude(partner)[low])).mean()
    mixed_gap = np.abs(np.log1p(_amplitude(full)[low]) - np.log1p(_amplitude(partner)[low])).mean()
    assert mixed_gap < 0.3 * own_gap
    # the structure is mostly the film's own: its edges far more than the partner's, even at the full share
    own = np.corrcoef(_edges(full).ravel(), _edges(normal).ravel())[0, 1]
    theirs = np.corrcoef(_edges(full).ravel(), _edges(partner).ravel())[0, 1]
    assert own > 0.5 and own > 2 * abs(theirs)


def test_views_are_reproducible_and_the_style_needs_a_partner(films):
    normal, covid = films
    assert "amplitude-mix" in STYLE_NAMES
    a = augment_with_mask(normal, None, np.random.default_rng(4), "amplitude-mix", covid)[0]
    b = augment_with_mask(normal, None, np.random.default_rng(4), "amplitude-mix", covid)[0]
    assert np.array_equal(a, b) and a.dtype == np.uint8
    with pytest.raises(ValueError, match="needs a partner film"):
        augment_with_mask(normal, None, np.random.default_rng(4), "amplitude-mix")


def test_the_loader_pairs_each_film_with_a_film_of_another_class(films):
    from cxviewer.training.train_loop import AugmentedBatches

    normal, covid = films
    images = [normal, covid, normal[::2, ::2].copy(), covid[::2, ::2].copy()]
    labels = np.array([2, 0, 2, 0])
    batches = AugmentedBatches(images, labels, np.ones(4, np.float32), 3, batch_size=4, seed=1, size=64,
                               standardise="equalize_hist", style_randomise="amplitude-mix")
    rng = np.random.default_rng(0)
    for j in range(4):
        for _ in range(5):
            partner = batches._partner(j, rng)
            assert labels[[i for i, img in enumerate(images) if img is partner][0]] != labels[j]
    x, y, w = batches[0]
    assert x.shape == (4, 64, 64, 3) and np.isfinite(x).all()
    # a style without a partner draws none, so its views are what they were
    assert AugmentedBatches(images, labels, np.ones(4, np.float32), 3, batch_size=4, seed=1, size=64,
                            standardise="equalize_hist", style_randomise="sharpness")._partner(0, rng) is None


def test_contrast_matching_gives_the_view_the_partners_amount_of_large_scale_contrast(films):
    normal, covid = films
    own, theirs = large_scale_detail(normal)[2], large_scale_detail(covid)[2]
    assert abs(own - theirs) > 0.1 * theirs  # the two films differ to begin with
    for film, partner in ((normal, covid), (covid, normal)):
        matched = contrast_match(film, partner, np.random.default_rng(0))
        assert matched.shape == film.shape and matched.dtype == np.uint8
        got, want = large_scale_detail(matched)[2], large_scale_detail(partner)[2]
        before = large_scale_detail(film)[2]
        assert abs(got - want) < 0.5 * abs(before - want)  # over half the way (the grey range clips)
        # the anatomy stays: the coarse film is the same
        coarse = [cv2.GaussianBlur(x.astype(np.float32), (0, 0), 0.05 * max(film.shape)) for x in (film, matched)]
        assert np.abs(coarse[0] - coarse[1]).mean() < 6.0  # (a few grey levels where the range clips)
    with pytest.raises(ValueError, match="needs a partner film"):
        augment_with_mask(normal, None, np.random.default_rng(4), "contrast-match")
