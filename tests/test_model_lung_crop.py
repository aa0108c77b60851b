"""A cropping classifier: the lung crop is applied, Grad-CAM still lands on the original pixel grid,
and a film without findable lungs falls back to the whole image and says so."""

import json
import shutil

import numpy as np
import pytest

from cxviewer.model import available_models, load_card

CLASSIFIERS = available_models()
SEGMENTERS = available_models("segmentation")
needs_models = pytest.mark.skipif(not (CLASSIFIERS and SEGMENTERS), reason="needs a bundled classifier and lung segmenter")


@pytest.fixture(scope="module")
def cropping_classifier(tmp_path_factory):
    """The bundled cropping model if there is one, else the bundled classifier's own weights run with the crop."""
    from cxviewer.model.classifier import Classifier
    from cxviewer.training.evaluate import crop_spec

    for card in CLASSIFIERS:
        if card.data["input"].get("crop"):
            return Classifier(card)
    src = CLASSIFIERS[0]
    folder = tmp_path_factory.mktemp("cropping") / "with-crop"
    folder.mkdir()
    shutil.copy(src.weights_path, folder / src.weights_path.name)
    data = json.loads(json.dumps(src.data))
    data["input"]["crop"] = crop_spec(SEGMENTERS[0].directory)
    data.pop("ood", None)
    (folder / "card.json").write_text(json.dumps(data))
    return Classifier(load_card(folder))


@needs_models
def test_crop_is_applied_and_gradcam_maps_back_to_the_source_grid(cropping_classifier, dicom_dir):
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image

    img = model_image(read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm"))
    pred = cropping_classifier.predict(img, gradcam=True)
    assert pred.lung_crop == "applied"
    y0, x0, y1, x1 = pred.input_box
    assert 0 <= y0 < y1 <= img.shape[0] and 0 <= x0 < x1 <= img.shape[1]
    assert (y1 - y0) * (x1 - x0) < img.size
    assert pred.heatmap.shape == img.shape and pred.lung_mask.shape == img.shape
    outside = np.ones(img.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert pred.heatmap[outside].max() == 0.0  # nothing the model did not see is lit
    assert pred.heatmap[y0:y1, x0:x1].max() > 0.5
    # the lungs the segmenter found lie inside what the classifier saw
    assert pred.lung_mask[outside].sum() == 0
    # the crop the model saw is the segmenter's own box for this image
    assert cropping_classifier.segmenter.segment(img).box == pred.input_box
    # and the batch path (scan) makes the same input, so gives the same probabilities
    batch = cropping_classifier.predict_batch([img])[0]
    np.testing.assert_allclose(batch.probabilities, pred.probabilities, atol=1e-4)
    assert batch.lung_crop == "applied" and batch.input_box == pred.input_box
    assert pred.as_dict()["lung_crop"] == "applied"


@needs_models
def test_no_lungs_found_falls_back_to_the_whole_film(cropping_classifier):
    flat = np.full((300, 400), 128, np.uint8)  # nothing to segment
    pred = cropping_classifier.predict(flat, gradcam=True)
    assert pred.lung_crop == "lungs not found" and pred.input_box is None
    assert pred.heatmap.shape == flat.shape


@needs_models
def test_non_cropping_model_still_supplies_the_lung_outline():
    from cxviewer.model.classifier import Classifier

    plain = [c for c in CLASSIFIERS if not c.data["input"].get("crop")]
    if not plain:
        pytest.skip("every bundled classifier crops")
    clf = Classifier(plain[0])
    img = np.full((256, 256), 100, np.uint8)
    quiet = clf.predict(img, gradcam=False, outline=False)  # the CLI's call: no second network loaded or run
    assert quiet.lung_mask is None and clf._segmenter is None
    pred = clf.predict(img, gradcam=False)
    assert pred.lung_crop is None and pred.input_box is None
    assert pred.lung_mask is not None and pred.lung_mask.shape == img.shape


@needs_models
def test_missing_segmenter_is_a_clear_card_error(tmp_path):
    from cxviewer.model import ModelCardError
    from cxviewer.model.classifier import Classifier

    src = CLASSIFIERS[0]
    shutil.copy(src.weights_path, tmp_path / src.weights_path.name)
    data = json.loads(json.dumps(src.data))
    data["input"]["crop"] = {"segmentation_model": "no-such-segmenter"}
    data.pop("ood", None)
    (tmp_path / "card.json").write_text(json.dumps(data))
    with pytest.raises(ModelCardError, match="no-such-segmenter"):
        Classifier(load_card(tmp_path))


@needs_models
def test_a_box_clipped_to_the_whole_film_still_counts_as_lungs_found(cropping_classifier, dicom_dir):
    """Lungs filling the film give a box (after margin) as large as the film: the crop was applied, not missed."""
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image

    img = model_image(read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm"))
    lungs = cropping_classifier.segmenter.segment(img)
    y0, x0, y1, x1 = lungs.box
    tight = np.ascontiguousarray(img[y0:y1, x0:x1])  # the film cut to its own lung box: the next box spans it all
    again = cropping_classifier.segmenter.segment(tight)
    assert again.box is not None
    _, geometry = cropping_classifier.prepare(tight)
    assert geometry.lungs_found is True
    pred = cropping_classifier.predict_batch([tight])[0]
    assert pred.lung_crop == "applied" and pred.input_box is not None


@needs_models
def test_lung_mask_comes_with_the_outline_or_the_map_only(cropping_classifier, dicom_dir):
    """The full-size mask is made for the outline and for the map's share in the lungs; a bare answer (the study
    browser's background column) gets the crop without it, and the same probabilities."""
    from cxviewer.imaging import read_radiograph
    from cxviewer.model.inputs import model_image
    from cxviewer.model.lung_mask import to_source

    img = model_image(read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm"))
    lungs = cropping_classifier.segmenter.segment(img)
    expected = to_source(lungs.mask_small, img.shape)
    with_map = cropping_classifier.predict(img, gradcam=True, outline=False)
    with_outline = cropping_classifier.predict(img, gradcam=False, outline=True)
    bare = cropping_classifier.predict(img, gradcam=False, outline=False)
    assert np.array_equal(with_map.lung_mask, expected) and np.array_equal(with_outline.lung_mask, expected)
    assert with_map.attention_in_lungs is not None
    assert bare.lung_mask is None and bare.heatmap is None
    assert bare.input_box == with_map.input_box == lungs.box and bare.lung_crop == "applied"
    assert bare.probabilities == with_outline.probabilities
