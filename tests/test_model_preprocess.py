"""The preprocessing shared by training and inference: deterministic, faithful to the recipe."""

import cv2
import numpy as np
import pytest

from cxviewer.model.area_shrink import to_square
from cxviewer.model.preprocess import beasf, beasf_lut, clahe, prepare


@pytest.fixture
def chest(shared_dir):
    img = cv2.imread(str(shared_dir / "data/cxr/images/normal" / sorted((shared_dir / "data/cxr/images/normal").iterdir())[0].name), cv2.IMREAD_GRAYSCALE)
    assert img is not None
    return img


def test_prepare_is_deterministic_and_in_range(chest):
    a, ga = prepare(chest, 224)
    b, gb = prepare(chest.copy(), 224)
    assert a.shape == (224, 224, 3) and a.dtype == np.float32
    assert np.array_equal(a, b) and ga == gb
    assert 0.0 <= a.min() and a.max() <= 1.0
    assert ga.source_shape == chest.shape and ga.crop == (0, 0, *chest.shape)


def test_channels_are_beasf_clahe_original(chest):
    x, _ = prepare(chest, 224)
    resized = to_square(chest, 224)  # the area shrink (tests/test_model_area_shrink.py)
    np.testing.assert_array_equal(np.rint(x[..., 2] * 255).astype(np.uint8), resized)
    np.testing.assert_array_equal(np.rint(x[..., 1] * 255).astype(np.uint8), clahe(resized))
    np.testing.assert_array_equal(np.rint(x[..., 0] * 255).astype(np.uint8), beasf(resized))


def test_training_and_inference_share_the_function(monkeypatch):
    """The trainer and the classifier's input recipe (model.inputs, shared by the scan) call the very same
    prepare()."""
    from cxviewer.model import preprocess
    from cxviewer.model.inputs import InputRecipe
    from cxviewer.training import train

    assert train.prepare is prepare
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[1])
        return prepare(*args, **kwargs)

    monkeypatch.setattr(preprocess, "prepare", spy)
    tensor, _ = InputRecipe(64, "equalize_hist").prepare(np.full((80, 70), 128, np.uint8))
    assert calls == [64] and tensor.shape == (64, 64, 3)


def test_beasf_lut_is_monotone_and_pins_mean_and_ends(chest):
    lut = beasf_lut(chest).astype(int)
    m = int(round(chest.mean()))
    assert np.all(np.diff(lut) >= 0)
    assert lut[0] == 0 and lut[255] == 255
    assert abs(lut[m] - m) <= 1  # both halves stretch onto [0, m] and [m, 255]


def test_beasf_raises_contrast_around_each_half_median():
    rng = np.random.default_rng(0)
    img = np.clip(rng.normal(100, 20, (256, 256)), 0, 255).astype(np.uint8)
    lut = beasf_lut(img, gamma=1.5).astype(float)
    steep = beasf_lut(img, gamma=4.0).astype(float)
    lower = img[img < img.mean()]
    med = int(np.median(lower))
    # slope of the map near the lower half's median: > 1 (contrast gain), larger for larger gamma
    slope = (lut[med + 5] - lut[med - 5]) / 10
    slope_steep = (steep[med + 5] - steep[med - 5]) / 10
    assert slope > 1.0 and slope_steep > slope


def test_prepare_rejects_non_display_input():
    with pytest.raises(ValueError):
        prepare(np.zeros((10, 10), np.uint16), 224)
    with pytest.raises(ValueError):
        prepare(np.zeros((10, 10, 3), np.uint8), 224)
