"""FakeClassifier: a test double with the interface of ``cxviewer.model.Classifier``.

For wiring tests only (the batch scan, its dialog): where what is under test is that the right film's
answer reaches the right row, not what the model says. It runs no network. It prepares its input with the
real :class:`~cxviewer.model.inputs.InputRecipe` (a 24 x 24 input), and its probabilities are a plain function
of that input (:func:`fake_probabilities`: how bright the film's top, middle and bottom thirds are), so a test
can compute, for each file, the numbers that must land in its row.
The real model keeps its own tests (tests/test_model_*.py, test_ai_honest.py, the scan's model tests).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from cxviewer.model.card import ModelCard
from cxviewer.model.inputs import InputRecipe
from cxviewer.model.prediction import Prediction
from cxviewer.training.dataset import TRAINING_LABELS

INPUT_SIZE = 24  # the fake's "input tensor": the film prepared at 24 x 24
RECIPE = InputRecipe(INPUT_SIZE, None)


def fake_probabilities(image_u8: np.ndarray, n_classes: int = 3) -> np.ndarray:
    """Softmax of the mean brightness of ``n_classes`` horizontal bands of the 24 x 24 prepared input."""
    return _softmax_of_bands(RECIPE.from_display(image_u8), n_classes)


def _softmax_of_bands(tensor: np.ndarray, n_classes: int) -> np.ndarray:
    bands = np.array([band.mean() for band in np.array_split(tensor, n_classes, axis=0)], dtype=np.float64)
    e = np.exp(4.0 * (bands - bands.max()))
    return e / e.sum()


class FakeClassifier:
    """Honours the Classifier methods the scan and the viewer call; records the batch sizes it saw."""

    crops = False  # no lung segmenter: the scan prepares inputs in its decode workers
    runtime = "fake"
    device = "CPU (fake classifier, no network)"
    calibration = None
    gate = None

    def __init__(self, labels: tuple[str, ...] = TRAINING_LABELS, name: str = "fake-classifier"):
        self.card = ModelCard(Path("fake-classifier"), {
            "name": name, "version": "0.0.0", "architecture": "fake", "weights": "none",
            "labels": list(labels), "input": {"size": INPUT_SIZE},
        })
        self.recipe = InputRecipe.of_card(self.card)  # what the scan's decode steps prepare with
        self.batches: list[int] = []
        self._lock = threading.Lock()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    def prepare(self, image_u8: np.ndarray):
        return self.recipe.prepare(image_u8)

    def predict_prepared(self, tensors: np.ndarray, geometries=None) -> list[Prediction]:
        with self._lock:
            self.batches.append(len(tensors))
        return [self._prediction(_softmax_of_bands(t, len(self.labels))) for t in tensors]

    def predict(self, image_u8: np.ndarray, gradcam: bool = True, outline: bool = True) -> Prediction:
        return self.predict_prepared(self.prepare(image_u8)[0][np.newaxis])[0]

    def predict_radiograph(self, rad, gradcam: bool = True, outline: bool = True) -> Prediction:
        from cxviewer.model.inputs import model_image

        return self.predict(model_image(rad), gradcam=gradcam, outline=outline)

    def refuse(self, reason: str) -> Prediction:
        return Prediction(labels=self.labels, probabilities=tuple(float("nan") for _ in self.labels),
                          model_name=self.card.name, model_version=self.card.version, elapsed_ms=0.0,
                          device=self.device, scope_reason=reason, runtime=self.runtime)

    def _prediction(self, probs: np.ndarray) -> Prediction:
        return Prediction(labels=self.labels, probabilities=tuple(float(p) for p in probs), model_name=self.card.name,
                          model_version=self.card.version, elapsed_ms=0.1, device=self.device, runtime=self.runtime)
