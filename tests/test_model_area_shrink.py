"""The area shrink from the integral image (:mod:`cxviewer.model.area_shrink`) gives the exact area mean of each
cell, rounded: checked against a float64 reference made from the cells' overlap weights, on every readable bundled
DICOM film (the segmenter's input and a lung crop), on training films, on random sizes, views and contents, and on
a film large enough to wrap its int32 integral. Against ``cv2.resize(..., INTER_AREA)`` (float32 sums) it differs
by at most one grey level, at a few pixels in a thousand. Where OpenCV takes another path (a whole ratio of sizes,
a film not shrunk both ways) ``cv2.resize`` itself is used, to the last grey level."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cxviewer.model.area_shrink import shrink, to_square


def _area(img, w, h):
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def _weights(n_src: int, n_out: int) -> np.ndarray:
    """(n_out, n_src): how much of each source pixel lies in each output cell, over the cell's width."""
    scale = n_src / n_out
    lo = np.arange(n_out)[:, None] * scale
    px = np.arange(n_src)[None, :]
    return np.clip(np.minimum(px + 1, lo + scale) - np.maximum(px, lo), 0, None) / scale


def _exact_mean(img, w, h) -> np.ndarray:
    return _weights(img.shape[0], h) @ img.astype(np.float64) @ _weights(img.shape[1], w).T


def _check(img, w, h, label=""):
    """(pixels that differ from cv2.resize, pixels, whether the integral was used): the exact mean where the
    integral is used, else OpenCV's own pixels."""
    got = shrink(img, w, h)
    assert got.dtype == np.uint8 and got.shape == (h, w), label
    rows, cols = img.shape
    if not (cols > w and rows > h) or cols % w == 0 or rows % h == 0:  # OpenCV's own path: its own pixels
        assert np.array_equal(got, _area(img, w, h)), label
        return 0, got.size, False
    # the exact mean rounded: never more than half a grey level from it (a float64 rounding at an exact half aside)
    assert np.abs(got - _exact_mean(img, w, h)).max() <= 0.5 + 1e-6, label
    off = np.abs(got.astype(np.int16) - _area(img, w, h))
    assert off.max() <= 1, label
    return int(np.count_nonzero(off)), off.size, True


@pytest.fixture(scope="module")
def films(dicom_dir):
    from cxviewer.imaging import read_radiograph
    from cxviewer.imaging.errors import UnreadableImageError
    from cxviewer.model.inputs import model_image

    out = {}
    for path in sorted(dicom_dir.glob("*.dcm")):
        try:
            out[path.name] = model_image(read_radiograph(path))
        except UnreadableImageError:
            continue
    assert len(out) >= 10
    return out


def test_every_bundled_film_shrinks_to_its_exact_area_mean(films):
    differ = total = integral = 0
    for name, img in films.items():
        eq = cv2.equalizeHist(img)
        h, w = img.shape
        cases = [(eq, 192, 192), (eq, 256, 256), (img[h // 10: h - h // 20, w // 12: w - w // 9], 128, 128),
                 (img, 224, 224)]
        for src, sw, sh in cases:
            d, n, used = _check(src, sw, sh, (name, src.shape, sw))
            differ, total, integral = differ + d, total + n, integral + used
    assert integral >= 20  # the real films went through the integral, not back to OpenCV
    assert differ <= total * 1e-2  # OpenCV's float32 sums round the other way only at the rare near-half means


def test_training_films_shrink_to_their_exact_area_mean(shared_dir):
    root = shared_dir / "data" / "cxr" / "images"
    paths = sorted(root.glob("*/*.jpg"))[::97][:20]
    assert len(paths) >= 10
    for path in paths:
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        for size in (128, 192):
            if min(img.shape) > size:
                _check(img, size, size, path.name)


def test_random_sizes_views_and_contents_shrink_to_their_exact_area_mean():
    rng = np.random.default_rng(20201)
    differ = total = integral = 0
    for k in range(120):
        h, w = (int(v) for v in rng.integers(130, 2600, 2))
        img = rng.integers(0, 256, (h, w), dtype=np.uint8)
        if k % 3 == 1:
            img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(1, 6)))
        elif k % 3 == 2:
            img = np.where(img > 128, 255, 0).astype(np.uint8)  # hard edges
        y0, x0 = (int(v) for v in rng.integers(0, 40, 2))
        view = img[y0:, x0:]  # not contiguous
        size = int(rng.choice([64, 96, 128, 192, 224, 256]))
        out_w, out_h = size, int(rng.choice([size, size // 2 + 1]))
        d, n, used = _check(view, out_w, out_h, (view.shape, out_w, out_h))
        differ, total, integral = differ + d, total + n, integral + used
    assert integral >= 60 and differ <= total * 1e-2


def test_a_film_whose_integral_wraps_is_still_exact():
    """9001 x 7003 bright pixels sum to about 1.6e10: the int32 integral wraps several times over."""
    img = np.full((9001, 7003), 250, np.uint8)
    img[::7, ::3] = 3
    img[4000:4100, 100:6000] = 0
    got = shrink(img, 192, 192)
    assert np.array_equal(got, _area(img, 192, 192))
    assert np.abs(got - _exact_mean(img, 192, 192)).max() <= 0.5 + 1e-6


def test_opencv_itself_where_it_takes_another_path():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (1536, 1945), dtype=np.uint8)
    # a whole ratio across, a whole ratio down, both, a film not shrunk down, and an enlargement
    for src, w, h in ((img, 1945 // 5, 192), (img[:, :1920], 192, 200), (img[:1536, :1920], 192, 192),
                      (img[:100], 128, 128), (img[:90, :80], 128, 128)):
        assert np.array_equal(shrink(src, w, h), _area(src, w, h)), (src.shape, w, h)


def test_to_square_shrinks_by_area_and_enlarges_linearly():
    rng = np.random.default_rng(2)
    big = cv2.GaussianBlur(rng.integers(0, 256, (1000, 777), dtype=np.uint8), (0, 0), 3)
    assert np.array_equal(to_square(big, 128), shrink(big, 128, 128))
    small = big[:100, :90]
    assert np.array_equal(to_square(small, 128), cv2.resize(small, (128, 128), interpolation=cv2.INTER_LINEAR))


def test_a_model_input_moves_by_one_grey_level_at_most_at_few_pixels(films, monkeypatch):
    """What the change from OpenCV's float32 sums means for a model: the segmenter's and the classifier's inputs
    (equalised, blurred, three channels) of bundled films against those made with cv2.resize."""
    import cxviewer.model.lung_mask as lung_mask
    import cxviewer.model.preprocess as preprocess

    def inputs(img):
        return (lung_mask.segmenter_input(img, 192),
                preprocess.prepare(img, 128, standardise="equalize_hist+lowpass")[0])

    ours = {name: inputs(img) for name, img in list(films.items())[:8]}

    def with_opencv(image, size):
        return _area(image, size, size) if max(image.shape[:2]) > size else to_square(image, size)

    monkeypatch.setattr(lung_mask, "to_square", with_opencv)
    monkeypatch.setattr(preprocess, "to_square", with_opencv)
    for name, (seg, clf) in ours.items():
        seg_cv, clf_cv = inputs(films[name])
        seg_off = np.abs(seg - seg_cv)
        assert seg_off.max() <= 1 / 255 + 1e-7 and np.count_nonzero(seg_off) <= seg_off.size * 1e-2, name
        assert np.abs(clf - clf_cv).mean() < 1e-3, name
