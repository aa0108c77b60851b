"""The single-film pipeline's cheaper steps give what the plain ones gave, on real films (issue 16).

Each check runs the earlier, plain form of a step (written out below as it was) beside the one the app now
uses, on films from ../shared: the Grad-CAM map put back on the film, the lung mask put back on the film,
the share of the map inside the lungs, and a whole prediction rebuilt step by step the earlier way.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cxviewer.model import available_models

CLASSIFIERS = available_models()
SEGMENTERS = available_models("segmentation")
needs_models = pytest.mark.skipif(not (CLASSIFIERS and SEGMENTERS), reason="needs a bundled classifier and lung segmenter")

FILMS = ("dicom/RG1_UNCR.dcm", "dicom/RG1_JLSN.dcm", "cxr/images/covid/cxnet_001.jpg",
         "cxr/images/normal/nih_00001280_004.jpg", "cxr/images/pneumonia/nih_00000061_012.jpg")


# the plain forms, as they were before the pipeline was made cheaper ------------------------------------------


def plain_map_to_source(geometry, small_map):
    import cv2

    y0, x0, y1, x1 = geometry.crop
    out = np.zeros(geometry.source_shape, dtype=np.float32)
    out[y0:y1, x0:x1] = cv2.resize(small_map.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    return out


def plain_mask_to_source(mask_small, shape):
    import cv2

    up = cv2.resize(mask_small.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return (up >= 0.5).astype(np.uint8)


def plain_lung_attention(heatmap, lung_mask, input_box):
    mask = lung_mask.astype(bool)
    y0, x0, y1, x1 = input_box or (0, 0) + mask.shape
    total = float(heatmap.sum())
    share = float(heatmap[mask].sum() / total) if total > 0 else float("nan")
    return share, float(mask[y0:y1, x0:x1].mean())


def plain_clean_mask(prob, threshold=0.5):
    import cv2

    binary = (prob >= threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return binary
    areas = stats[1:, cv2.CC_STAT_AREA]
    order = np.argsort(areas)[::-1]
    keep = [int(i) + 1 for rank, i in enumerate(order) if rank < 2 or areas[i] >= 0.2 * areas[order[0]]]
    return np.isin(labels, keep).astype(np.uint8)


def plain_crop_box(mask_small, shape, margin=0.05):
    import cv2

    from cxviewer.model.lung_mask import MAX_AREA, MIN_AREA, MIN_SPAN

    if not mask_small.any():
        return None
    area = float(mask_small.mean())
    ys, xs = np.nonzero(mask_small)
    h, w = mask_small.shape
    if not (MIN_AREA <= area <= MAX_AREA and (ys.max() - ys.min() + 1) >= MIN_SPAN * h
            and (xs.max() - xs.min() + 1) >= MIN_SPAN * w):
        return None
    dilated = cv2.dilate(mask_small.astype(np.uint8), np.ones((5, 5), np.uint8), iterations=3)
    ys, xs = np.nonzero(dilated)
    sh, sw = mask_small.shape
    H, W = shape
    y0, y1 = ys.min() / sh * H, (ys.max() + 1) / sh * H
    x0, x1 = xs.min() / sw * W, (xs.max() + 1) / sw * W
    my, mx = margin * (y1 - y0), margin * (x1 - x0)
    return (int(max(0, np.floor(y0 - my))), int(max(0, np.floor(x0 - mx))),
            int(min(H, np.ceil(y1 + my))), int(min(W, np.ceil(x1 + mx))))


# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def films(shared_dir):
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image

    out = {}
    for name in FILMS:
        path = shared_dir / "data" / name
        if path.exists():
            out[name] = model_image(read_radiograph(path))
    if len(out) < 3:
        pytest.skip("the shared films are missing")
    return out


@pytest.fixture(scope="module")
def classifier():
    from cxviewer.model import load_classifier

    clf = load_classifier(None)
    if clf.segmenter is None:
        pytest.skip("no lung segmenter")
    return clf


@needs_models
def test_map_put_back_on_the_film_is_unchanged(classifier, films):
    from cxviewer.model.gradcam import normalise
    from cxviewer.model.preprocess import InputGeometry

    rng = np.random.default_rng(16)
    for name, image in films.items():
        lungs = classifier.segmenter.segment(image)
        _, geometry = classifier.prepare_segmented(image, lungs)
        h, w = image.shape
        boxes = [geometry.crop, (0, 0, h, w), (h // 7, w // 5, h - h // 9, w - 3)]  # the segmenter's, whole, off-corner
        for box in boxes:
            g = InputGeometry((h, w), box, geometry.input_size)
            for small in (normalise(rng.random((4, 4)).astype(np.float32)), rng.random((7, 7)) * 3):
                dirty = np.full((h, w), np.nan, np.float32)  # memory the allocator may hand back to the map
                del dirty
                new, old = g.to_source(small), plain_map_to_source(g, small)
                assert new.dtype == old.dtype == np.float32 and new.shape == (h, w), name
                assert np.array_equal(new, old), (name, box)


@needs_models
def test_map_cut_to_one_on_the_film_is_the_plain_clip(classifier, films):
    """The map as the prediction carries it: normalised, put back and clipped to [0, 1] (OpenCV's cut at 1 now)."""
    from cxviewer.model.classifier import map_on_film
    from cxviewer.model.gradcam import normalise
    from cxviewer.model.preprocess import InputGeometry

    rng = np.random.default_rng(61)
    for name, image in films.items():
        h, w = image.shape
        for box in ((0, 0, h, w), (h // 7, w // 5, h - h // 9, w - 3), (3, 1, h // 2 + 1, w // 3 + 2)):
            g = InputGeometry((h, w), box, 128)
            for cam in (rng.random((4, 4)).astype(np.float32), rng.random((4, 4)).astype(np.float32) ** 8,
                        np.eye(4, dtype=np.float32), np.zeros((4, 4), np.float32), rng.random((7, 5)) * 3):
                old = plain_map_to_source(g, normalise(cam))
                np.clip(old, 0.0, 1.0, out=old)
                new = map_on_film(cam, g)
                assert new.dtype == np.float32 and np.array_equal(new, old), (name, box)


@needs_models
def test_lung_mask_put_back_on_the_film_is_unchanged(classifier, films):
    from cxviewer.model.lung_mask import to_source

    for name, image in films.items():
        lungs = classifier.segmenter.segment(image)
        new, old = lungs.mask, plain_mask_to_source(lungs.mask_small, image.shape)
        assert new.dtype == old.dtype == np.uint8 and new.shape == image.shape, name
        assert np.array_equal(new, old), name
        assert set(np.unique(new)) <= {0, 1} and new.any(), name
        assert lungs.mask is new  # made once
        assert np.array_equal(to_source(lungs.mask_small, (301, 207)), plain_mask_to_source(lungs.mask_small, (301, 207)))


@needs_models
def test_prediction_matches_the_plain_pipeline_step_by_step(classifier, films):
    """Probabilities identical, map and mask equal to the ones the earlier steps made from the same network outputs."""
    from cxviewer.model.gradcam import normalise

    for name, image in films.items():
        pred = classifier.predict(image, gradcam=True, outline=True)
        tensor, geometry, lungs = classifier.prepare_with_lungs(image, segment=True)
        probs, cam, _ = (t[0] for t in classifier._net.explain(tensor[np.newaxis]))
        heatmap = plain_map_to_source(geometry, normalise(cam))
        np.clip(heatmap, 0.0, 1.0, out=heatmap)
        raw = classifier.calibration.apply(probs) if classifier.calibration is not None else probs
        assert pred.probabilities == tuple(float(p) for p in raw), name
        assert np.array_equal(pred.heatmap, heatmap), name
        assert np.array_equal(pred.lung_mask, plain_mask_to_source(lungs.mask_small, image.shape)), name
        quiet = classifier.predict(image, gradcam=False, outline=False)
        assert quiet.probabilities == pred.probabilities and quiet.heatmap is None, name


@needs_models
def test_share_of_the_map_inside_the_lungs_is_unchanged(classifier, films):
    from cxviewer.model.attention import lung_attention

    for name, image in films.items():
        pred = classifier.predict(image, gradcam=True, outline=True)
        new = lung_attention(pred)
        old = plain_lung_attention(pred.heatmap, pred.lung_mask, pred.input_box)
        assert new is not None, name
        assert abs(new[0] - old[0]) <= 1e-6 and new[1] == old[1], (name, new, old)
        assert 0.0 <= new[0] <= 1.0
        as_bool = dataclasses.replace(pred, lung_mask=pred.lung_mask.astype(bool))
        assert lung_attention(as_bool) == new


@needs_models
def test_crop_box_is_unchanged(classifier, films):
    """On the segmenter's masks of real films, on shifted and thinned copies of them, and on masks too small or too
    narrow to be lungs (no box)."""
    from cxviewer.model.lung_mask import crop_box, plausible

    for name, image in films.items():
        small = classifier.segmenter.segment(image).mask_small
        variants = [small, np.roll(small, (9, -13), axis=(0, 1)), small[:, : small.shape[1] // 3].copy(),
                    small * (np.arange(small.shape[1]) % 3 == 0), np.zeros_like(small), small[::2, ::2].copy(),
                    small.astype(bool)]
        for i, mask in enumerate(variants):
            for shape in (image.shape, (512, 400), (3000, 2500)):
                assert crop_box(mask, shape) == plain_crop_box(mask, shape), (name, i, shape)
        assert crop_box(small, image.shape) is not None and plausible(small), name


@needs_models
def test_mask_clean_up_is_unchanged(classifier, films):
    """On the segmenter's probabilities for real films, and on noise with many small blobs."""
    from cxviewer.model.lung_mask import clean_mask

    rng = np.random.default_rng(7)
    probs = list(classifier.segmenter.probabilities(list(films.values())))
    probs += [rng.random((192, 192)).astype(np.float32), np.zeros((192, 192), np.float32),
              np.ones((64, 80), np.float32), (rng.random((192, 192)) ** 4).astype(np.float32)]
    for i, prob in enumerate(probs):
        new, old = clean_mask(prob), plain_clean_mask(prob)
        assert new.dtype == old.dtype == np.uint8 and np.array_equal(new, old), i
