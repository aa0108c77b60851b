"""Lung mask maths (no model): clean-up, the COVID-CXNet crop box, plausibility, the drawn outline."""

import cv2
import numpy as np

from cxviewer.model.lung_mask import MARGIN, clean_mask, crop_box, dice, outline, plausible, segmenter_input, to_source


def two_lungs(size=192):
    m = np.zeros((size, size), np.uint8)
    cv2.ellipse(m, (int(size * 0.32), int(size * 0.5)), (int(size * 0.13), int(size * 0.3)), 0, 0, 360, 1, -1)
    cv2.ellipse(m, (int(size * 0.68), int(size * 0.5)), (int(size * 0.13), int(size * 0.3)), 0, 0, 360, 1, -1)
    return m


def test_clean_mask_keeps_the_two_lungs_and_drops_specks():
    prob = two_lungs().astype(np.float32) * 0.9
    prob[5:8, 5:8] = 0.95  # a speck in the corner
    prob[180:183, 100:103] = 0.95
    cleaned = clean_mask(prob)
    assert cleaned[6, 6] == 0 and cleaned[181, 101] == 0
    assert dice(cleaned, two_lungs()) > 0.99


def test_crop_box_is_the_dilated_bbox_plus_margin_in_source_pixels():
    small = two_lungs()
    ys, xs = np.nonzero(small)
    source = (1000, 800)  # non-square source: the box scales per axis
    y0, x0, y1, x1 = crop_box(small, source)
    # dilating 5x5 three times grows the mask by 6 segmenter pixels each side, then the margin
    h_small = (ys.max() + 1 + 6) - (ys.min() - 6)
    assert abs((y1 - y0) - h_small / 192 * 1000 * (1 + 2 * MARGIN)) <= 3
    assert y0 <= ys.min() / 192 * 1000 and y1 >= (ys.max() + 1) / 192 * 1000
    assert x0 <= xs.min() / 192 * 800 and x1 >= (xs.max() + 1) / 192 * 800
    # the whole mask on the source grid lies inside the box
    big = to_source(small, source)
    inside = big[y0:y1, x0:x1].sum()
    assert inside == big.sum()


def test_box_is_clipped_to_the_film():
    small = np.zeros((192, 192), np.uint8)
    small[0:150, 0:120] = 1
    y0, x0, y1, x1 = crop_box(small, (512, 512))
    assert y0 == 0 and x0 == 0 and y1 <= 512 and x1 <= 512


def test_implausible_masks_give_no_crop():
    assert crop_box(np.zeros((192, 192), np.uint8), (500, 500)) is None
    tiny = np.zeros((192, 192), np.uint8)
    tiny[90:100, 90:100] = 1  # 0.3 % of the film
    assert not plausible(tiny) and crop_box(tiny, (500, 500)) is None
    everything = np.ones((192, 192), np.uint8)
    assert crop_box(everything, (500, 500)) is None
    stripe = np.zeros((192, 192), np.uint8)
    stripe[:, 90:110] = 1  # 10 % of the film but one narrow band: not two lungs
    assert stripe.mean() > 0.08 and not plausible(stripe)
    assert plausible(two_lungs())


def test_outline_is_closed_and_follows_the_mask():
    m = two_lungs(200)
    contours = outline(m)
    assert len(contours) == 2
    for c in contours:
        assert np.array_equal(c[0], c[-1])
        xs, ys = c[:, 0].astype(int), c[:, 1].astype(int)
        assert m[ys, xs].all()  # contour points are mask pixels on its edge


def test_segmenter_input_is_equalised_and_scaled():
    img = np.tile(np.linspace(90, 130, 300).astype(np.uint8), (400, 1))  # a faint ramp: 40 grey levels
    x = segmenter_input(img, 192)
    assert x.shape == (192, 192, 1) and x.dtype == np.float32
    assert x.min() < 0.05 and x.max() > 0.95  # histogram equalisation spreads it over the full range
