"""A model that sees only the lungs, on real films: the window covers the segmenter's lungs and a rim, the rest of
the input is black, the classifier cuts the window from the same mask it crops by, and other models are untouched."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from cxviewer.model.lung_mask import lung_window
from cxviewer.model.preprocess import prepare

SIZE = 128


@pytest.fixture(scope="module")
def film_and_lungs(shared_dir):
    from cxviewer.model.classifier import load_classifier

    path = sorted((shared_dir / "data" / "cxr" / "images" / "normal").glob("*.jpg"))[3]
    film = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    clf = load_classifier(None, "litert")
    lungs = clf.segmenter.segment(film)
    assert lungs.box is not None
    return clf, film, lungs


def test_window_covers_the_lungs_and_a_rim_only(film_and_lungs):
    _, film, lungs = film_and_lungs
    y0, x0, y1, x1 = lungs.box
    mask = lungs.mask[y0:y1, x0:x1]
    window = lung_window(mask, SIZE)
    lungs_small = cv2.resize(mask.astype(np.float32), (SIZE, SIZE), interpolation=cv2.INTER_AREA) >= 0.5
    assert window.shape == (SIZE, SIZE) and window.dtype == np.float32
    assert window[lungs_small].min() > 0.9  # the lungs themselves are in full view
    assert 0.2 < (window > 0.5).mean() < 0.9 and (window > 0.5).sum() > lungs_small.sum()  # plus a rim
    assert (window < 0.01).mean() > 0.1  # and much of the crop (mediastinum, corners) is hidden


def test_classifier_sees_only_the_lungs_when_its_card_says_so(film_and_lungs):
    clf, film, lungs = film_and_lungs
    plain, geometry = clf.prepare_segmented(film, lungs)
    data = dict(clf.card.data, input=dict(clf.card.data["input"], mask_outside_lungs=True))
    masked_clf = type(clf).__new__(type(clf))
    masked_clf.__dict__.update(clf.__dict__, card=dataclasses.replace(clf.card, data=data))
    assert masked_clf.recipe.mask_outside_lungs and not clf.recipe.mask_outside_lungs
    masked, geometry2 = masked_clf.prepare_segmented(film, lungs)
    assert geometry2 == geometry
    y0, x0, y1, x1 = lungs.box
    window = lung_window(lungs.mask[y0:y1, x0:x1], clf.card.input_size)
    np.testing.assert_allclose(masked, plain * window[..., None], atol=1e-6)
    assert masked.sum() < 0.9 * plain.sum()


def test_prepare_refuses_a_mask_of_another_region(film_and_lungs):
    _, film, lungs = film_and_lungs
    with pytest.raises(ValueError, match="does not cover"):
        prepare(film, SIZE, crop=lungs.box, lung_mask=lungs.mask)
