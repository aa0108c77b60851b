"""The area shrink done in two halves at once (:mod:`cxviewer.model.area_shrink`) gives the pixels
``cv2.resize(..., INTER_AREA)`` gives, to the last grey level: on every readable bundled DICOM film (the
segmenter's input and a lung crop), on training films, and on random sizes, views and contents. Where a
split would not be exact (a whole ratio of sizes, a film not shrunk both ways) it is not split."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from cxviewer.model.area_shrink import shrink
from cxviewer.model.helper_thread import beside

_pool = ThreadPoolExecutor(1)


class _Counting:
    """A ``beside`` that counts its calls (and runs the work on a thread of its own)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, work):
        self.calls += 1
        return _pool.submit(work)


def _area(img, w, h):
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


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


def test_every_bundled_film_shrinks_to_the_same_pixels(films):
    split = 0
    for name, img in films.items():
        eq = cv2.equalizeHist(img)
        h, w = img.shape
        cases = [(eq, 192, 192), (eq, 256, 256), (img[h // 10: h - h // 20, w // 12: w - w // 9], 128, 128),
                 (img, 224, 224)]
        for src, sw, sh in cases:
            counter = _Counting()
            got = shrink(src, sw, sh, counter)
            assert got.dtype == np.uint8 and np.array_equal(got, _area(src, sw, sh)), (name, src.shape, sw)
            split += counter.calls
    assert split >= 20  # the real films were shrunk in halves, not handed back to OpenCV whole


def test_training_films_shrink_to_the_same_pixels(shared_dir):
    root = shared_dir / "data" / "cxr" / "images"
    for path in sorted(root.glob("*/*.jpg"))[::97][:20]:
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        for size in (128, 192):
            if min(img.shape) > size:
                assert np.array_equal(shrink(img, size, size, beside), _area(img, size, size)), path.name


def test_random_sizes_views_and_contents_shrink_to_the_same_pixels():
    rng = np.random.default_rng(20201)
    for k in range(240):
        h, w = (int(v) for v in rng.integers(130, 2600, 2))
        img = rng.integers(0, 256, (h, w), dtype=np.uint8)
        if k % 3 == 1:
            img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(1, 6)))
        elif k % 3 == 2:
            img = np.where(img > 128, 255, 0).astype(np.uint8)  # hard edges: the halves' seam shows if inexact
        y0, x0 = (int(v) for v in rng.integers(0, 40, 2))
        view = img[y0:, x0:]  # not contiguous
        size = int(rng.choice([64, 96, 128, 192, 224, 256]))
        out_w, out_h = size, int(rng.choice([size, size // 2 + 1]))
        assert np.array_equal(shrink(view, out_w, out_h, beside), _area(view, out_w, out_h)), (view.shape, out_w, out_h)


def test_it_is_not_split_where_opencv_takes_another_path():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (1536, 1945), dtype=np.uint8)
    for src, w, h in ((img, 1945 // 5, 192), (img[:, :1920], 192, 200), (img[:, :1920], 192, 192),
                      (img[:100], 128, 128)):
        counter = _Counting()
        assert np.array_equal(shrink(src, w, h, counter), _area(src, w, h))
        if src.shape[1] % w == 0 or src.shape[0] % h == 0 or src.shape[0] <= h:
            assert counter.calls == 0, (src.shape, w, h)
    counter = _Counting()
    assert np.array_equal(shrink(img, 192, 192, None), _area(img, 192, 192)) and counter.calls == 0
