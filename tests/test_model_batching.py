"""The classifier's forward pass: one trace serves every batch size, and CPU chunking gives the same
numbers as one pass per image (skips until a model is installed)."""

from __future__ import annotations

import numpy as np
import pytest

from cxviewer.model import available_models


@pytest.fixture(scope="module")
def classifier():
    if not available_models():
        pytest.skip("no classifier is installed yet (models/ is empty)")
    from cxviewer.model import load_classifier

    return load_classifier(runtime="tensorflow")  # the tracing check is TensorFlow's (LiteRT: tests/test_model_litert.py)


@pytest.fixture(scope="module")
def inputs(classifier, shared_dir):
    import cv2

    paths = sorted((shared_dir / "data" / "cxr" / "images").glob("*/*.jpg"))[::300][:5]  # all three classes
    images = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]
    return np.stack([classifier.prepare(img)[0] for img in images])


def _probabilities(classifier, tensors) -> np.ndarray:
    return np.stack([p.probabilities for p in classifier.predict_prepared(tensors)])


def test_batches_of_any_size_share_one_trace_and_agree_with_single_images(classifier, inputs):
    classifier.chunk = 2  # as on a 2-core machine: 5 images run as 2 + 2 + 1
    together = _probabilities(classifier, inputs)
    one_by_one = np.concatenate([_probabilities(classifier, inputs[i:i + 1]) for i in range(len(inputs))])
    three = _probabilities(classifier, inputs[:3])
    assert together.shape == (5, len(classifier.labels))
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    np.testing.assert_allclose(three, together[:3], atol=1e-5)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-5)
    assert classifier._net._forward.experimental_get_tracing_count() == 1


def test_unchunked_pass_gives_the_same_predictions(classifier, inputs):
    chunked = [p.probabilities for p in classifier.predict_prepared(inputs)]
    classifier.chunk = None  # what a GPU does: the whole batch at once
    whole = [p.probabilities for p in classifier.predict_prepared(inputs)]
    np.testing.assert_allclose(chunked, whole, atol=1e-5)
