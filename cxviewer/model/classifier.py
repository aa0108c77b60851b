"""The one small interface through which the app, the CLI and the scan reach the model."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from cxviewer.model.card import ModelCard, ModelCardError, load_card
from cxviewer.model.gradcam import normalise
from cxviewer.model.prediction import Prediction
from cxviewer.model.preprocess import prepare


class Classifier:
    """A model described by its card. Build with :func:`load_classifier` (slow: imports TensorFlow)."""

    def __init__(self, card: ModelCard):
        from cxviewer.model.gradcam import make_explainer
        from cxviewer.model.network import BUILDERS
        from cxviewer.model.runtime import compute_device, import_tensorflow

        tf = import_tensorflow()
        if card.architecture not in BUILDERS:
            raise ModelCardError(f"{card.title}: unknown architecture {card.architecture!r}")
        self.card = card
        self.device = compute_device()
        self._model = BUILDERS[card.architecture](card.input_size, len(card.labels))
        self._model.load_weights(str(card.weights_path))
        self._explain = make_explainer(self._model, card.gradcam_layer)
        model = self._model
        self._forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        self._lock = threading.Lock()  # one caller at a time keeps TF's thread pool for one request

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    def prepare(self, image_u8: np.ndarray):
        return prepare(image_u8, self.card.input_size)

    def _prediction(self, probs, elapsed_ms: float, heatmap=None) -> Prediction:
        return Prediction(
            labels=self.labels,
            probabilities=tuple(float(p) for p in probs),
            model_name=self.card.name,
            model_version=self.card.version,
            elapsed_ms=elapsed_ms,
            device=self.device,
            heatmap=heatmap,
        )

    def predict(self, image_u8: np.ndarray, gradcam: bool = True) -> Prediction:
        """Classify one display image; with ``gradcam`` the map comes back on the image's own pixel grid."""
        start = time.perf_counter()
        tensor, geometry = self.prepare(image_u8)
        batch = tensor[np.newaxis]
        with self._lock:
            if gradcam:
                probs, cam = self._explain(batch)
                probs, cam = probs.numpy()[0], cam.numpy()[0]
            else:
                probs, cam = self._forward(batch).numpy()[0], None
        heatmap = geometry.to_source(normalise(cam)) if cam is not None else None
        if heatmap is not None:
            np.clip(heatmap, 0.0, 1.0, out=heatmap)
        return self._prediction(probs, (time.perf_counter() - start) * 1000.0, heatmap)

    def predict_tensors(self, tensors: np.ndarray) -> np.ndarray:
        """Forward pass on already prepared inputs (N, S, S, 3) -> probabilities (N, classes)."""
        with self._lock:
            return self._forward(np.ascontiguousarray(tensors, dtype=np.float32)).numpy()

    def predict_batch(self, images: list[np.ndarray]) -> list[Prediction]:
        """Batched classification without Grad-CAM (batch scan); ``elapsed_ms`` is the per-image share."""
        if not images:
            return []
        start = time.perf_counter()
        tensors = np.stack([self.prepare(img)[0] for img in images])
        probs = self.predict_tensors(tensors)
        share = (time.perf_counter() - start) * 1000.0 / len(images)
        return [self._prediction(p, share) for p in probs]


def load_classifier(model_dir: str | Path | None = None) -> Classifier:
    """Load the model a card describes (``None``: the bundled default). Imports TensorFlow."""
    from cxviewer.model.registry import default_model_dir

    return Classifier(load_card(model_dir if model_dir is not None else default_model_dir()))
