"""The attention penalty of ``cxviewer train --attention-penalty``: the differentiable share of the Grad-CAM map
outside the lungs is the app's own map (head_gradcam, checked against TensorFlow's autodiff elsewhere), and the
lung mask follows the film through the augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from cxviewer.training.augment import augment, augment_with_mask

tf = pytest.importorskip("tensorflow")


def _head(rng, channels=32, hidden=10, classes=3):
    from cxviewer.model.head_gradcam import Head

    return Head(rng.normal(0, 0.3, (channels, hidden)), rng.normal(0, 0.1, hidden),
                rng.normal(0, 0.5, (hidden, classes)), rng.normal(0, 0.1, classes))


def test_outside_share_is_one_minus_the_app_maps_share_on_the_lungs():
    from cxviewer.training.lung_attention import outside_share

    rng = np.random.default_rng(3)
    head = _head(rng)
    fmap = np.maximum(rng.normal(0.2, 1.0, (6, 4, 4, 32)), 0)  # post-ReLU features, like layer 'relu'
    cells = rng.uniform(0, 1, (6, 4, 4))
    ours = outside_share(*(tf.constant(a, tf.float64) for a in (fmap, head.dense_kernel, head.dense_bias,
                                                                  head.out_kernel, head.out_bias, cells))).numpy()
    cams = head.cams(fmap).astype(np.float64)
    expected = 1 - (cams * cells).sum(axis=(1, 2)) / cams.sum(axis=(1, 2))
    assert np.all(cams.sum(axis=(1, 2)) > 0)
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    # all-lung cells put nothing outside; all-background cells put everything outside
    ones = tf.ones((6, 4, 4), tf.float64)
    args = [tf.constant(a, tf.float64) for a in (fmap, head.dense_kernel, head.dense_bias, head.out_kernel, head.out_bias)]
    np.testing.assert_allclose(outside_share(*args, ones).numpy(), 0.0, atol=1e-9)
    np.testing.assert_allclose(outside_share(*args, 0 * ones).numpy(), 1.0, atol=1e-9)


def test_outside_share_has_a_gradient_toward_the_lungs():
    """Steps down the penalty's gradient move the map's mass onto the lung cells."""
    from cxviewer.training.lung_attention import outside_share

    rng = np.random.default_rng(5)
    head = _head(rng)
    fmap = tf.Variable(np.maximum(rng.normal(0.2, 1.0, (4, 4, 4, 32)), 0))
    cells = np.zeros((4, 4, 4))
    cells[:, 1:3, :] = 1.0
    consts = [tf.constant(a, tf.float64) for a in (head.dense_kernel, head.dense_bias, head.out_kernel, head.out_bias)]
    start = float(tf.reduce_mean(outside_share(fmap, *consts, tf.constant(cells))))
    for _ in range(20):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(outside_share(fmap, *consts, tf.constant(cells)))
        fmap.assign(tf.nn.relu(fmap - 20.0 * tape.gradient(total, fmap)))
    after = float(tf.reduce_mean(outside_share(fmap, *consts, tf.constant(cells))))
    assert after < start - 0.1


def _synthetic_film():
    img = np.full((300, 260), 40, np.uint8)
    img[60:220, 40:120] = 200  # two bright "lungs"
    img[60:220, 150:230] = 200
    mask = (img > 100).astype(np.uint8)
    return img, mask


def test_mask_follows_the_film_through_crop_border_and_warp():
    img, mask = _synthetic_film()
    ious = []
    for seed in range(30):
        view, moved = augment_with_mask(img, mask, np.random.default_rng(seed))
        assert moved is not None and moved.shape == view.shape and moved.dtype == np.uint8
        assert np.array_equal(view, augment(img, np.random.default_rng(seed)))  # same draws as without a mask
        # photometric changes keep the order of grey levels: the bright regions are still where the mask is
        bright = view > np.percentile(view, 100 * (1 - moved.mean())) if moved.any() else view > 255
        inter, union = np.logical_and(bright, moved).sum(), np.logical_or(bright, moved).sum()
        ious.append(inter / max(union, 1))
    assert np.median(ious) > 0.85


def test_mask_cells_average_the_lungs_over_the_feature_grid():
    from cxviewer.training.lung_attention import mask_cells

    mask = np.zeros((400, 400), np.uint8)
    mask[:, :200] = 1
    cells = mask_cells(mask, 4)
    assert cells.shape == (4, 4)
    np.testing.assert_allclose(cells[:, :2], 1.0)
    np.testing.assert_allclose(cells[:, 2:], 0.0)
