"""The bundled lung segmenter: its card, its Dice on held-out patients' masks, crops that keep the lungs."""

import cv2
import numpy as np
import pytest

from cxviewer.model import available_models
from cxviewer.training.dataset import read_manifest, split_by_patient
from cxviewer.model.lung_mask import dice

SEGMENTERS = available_models("segmentation")
needs_segmenter = pytest.mark.skipif(not SEGMENTERS, reason="no bundled lung segmenter in models/")


@pytest.fixture(scope="module")
def segmenter():
    from cxviewer.model.segmenter import LungSegmenter

    return LungSegmenter(SEGMENTERS[0])


@pytest.fixture(scope="module")
def held_out_masked(shared_dir):
    test = split_by_patient(read_manifest(shared_dir / "data/cxr"), seed=20201)["test"]
    pairs = []
    for s in test:
        if s.mask_path is not None:
            img = cv2.imread(str(s.path), cv2.IMREAD_GRAYSCALE)
            pairs.append((img, cv2.imread(str(s.mask_path), cv2.IMREAD_GRAYSCALE) > 127))
    assert len(pairs) >= 10
    return pairs


@needs_segmenter
def test_segmenter_card_is_complete_and_not_offered_as_a_classifier():
    card = SEGMENTERS[0]
    assert card.kind == "segmentation" and card.labels == ("lung",)
    assert card.name not in {c.name for c in available_models()}
    d = card.metrics["test_dice"]
    assert d["n"] >= 10 and 0.0 < d["dice_mean"] <= 1.0
    assert (card.directory / "card.md").read_text(encoding="utf-8").count("Dice") >= 2
    assert card.metrics["held_out_coverage_by_source"]


@needs_segmenter
def test_dice_on_held_out_patients_matches_the_card(segmenter, held_out_masked):
    results = segmenter.segment_many([img for img, _ in held_out_masked])
    scores = [dice(r.mask, m) for r, (_, m) in zip(results, held_out_masked)]
    assert np.mean(scores) >= 0.85, scores
    assert abs(np.mean(scores) - SEGMENTERS[0].metrics["test_dice"]["dice_mean"]) < 0.01


@needs_segmenter
def test_crop_box_keeps_the_reference_lungs(segmenter, held_out_masked):
    """The crop must not cut lung away: the box holds nearly all of the radiologist-drawn mask."""
    kept = []
    for (img, ref), r in zip(held_out_masked, segmenter.segment_many([img for img, _ in held_out_masked])):
        if r.box is None:
            continue
        y0, x0, y1, x1 = r.box
        kept.append(ref[y0:y1, x0:x1].sum() / ref.sum())
        assert (y1 - y0) * (x1 - x0) < img.size  # and it does crop something
    assert len(kept) >= 0.9 * len(held_out_masked)
    assert np.median(kept) >= 0.99 and min(kept) >= 0.9, kept


@needs_segmenter
def test_real_cr_chest_gets_a_mask_on_its_own_grid(segmenter, dicom_dir):
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image

    img = model_image(read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm"))
    r = segmenter.segment(img)
    assert r.mask.shape == img.shape and r.box is not None
    share = r.mask.mean()
    assert 0.1 < share < 0.6
    # two lungs, one on each side of the midline
    left, right = r.mask[:, : img.shape[1] // 2].sum(), r.mask[:, img.shape[1] // 2 :].sum()
    assert min(left, right) > 0.3 * max(left, right)
