"""Run a model folder's Keras weights with TensorFlow (training's own runtime; GPUs; the fallback).

Imports TensorFlow (about 2 s) and traces the network once for every batch size (4-10 s on a
2-core CPU): the price of this path, which is why LiteRT is the default on the CPU.
"""

from __future__ import annotations

import threading

import numpy as np

from cxviewer.model.card import ModelCard, ModelCardError

RUNTIME = "tensorflow"


class TFClassifierNetwork:
    runtime = RUNTIME

    def __init__(self, card: ModelCard):
        from cxviewer.model.gradcam import make_explainer
        from cxviewer.model.network import BUILDERS
        from cxviewer.model.runtime import compute_device, import_tensorflow

        tf = import_tensorflow()
        import keras

        if card.architecture not in BUILDERS:
            raise ModelCardError(f"{card.title}: unknown architecture {card.architecture!r}")
        self.device = compute_device()
        self._model = BUILDERS[card.architecture](card.input_size, len(card.labels))
        self._model.load_weights(str(card.weights_path))
        self._explain = make_explainer(self._model, card.gradcam_layer)
        both = keras.Model(self._model.inputs, [self._model.outputs[0], self._model.get_layer("gap").output])
        # One trace for every batch size: tracing this network costs 6-10 s on a 2-core CPU, and
        # reduce_retracing traced again for the first batch of another size (a scan's last one).
        size = card.input_size
        spec = tf.TensorSpec((None, size, size, 3), tf.float32)
        self._forward = tf.function(lambda x: both(x, training=False), input_signature=[spec])
        self._lock = threading.Lock()  # one caller at a time keeps TF's thread pool for one request

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            probs, feats = self._forward(np.ascontiguousarray(x, dtype=np.float32))
        return probs.numpy(), feats.numpy()

    def explain(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._lock:
            probs, cam, feats = self._explain(np.ascontiguousarray(x, dtype=np.float32))
        return probs.numpy(), cam.numpy(), feats.numpy()


class TFSegmenterNetwork:
    runtime = RUNTIME

    def __init__(self, card: ModelCard):
        from cxviewer.model.lung_unet import build_lung_unet
        from cxviewer.model.runtime import compute_device, import_tensorflow

        tf = import_tensorflow()
        self.device = compute_device()
        self._model = build_lung_unet(card.input_size)
        self._model.load_weights(str(card.weights_path))
        spec = tf.TensorSpec((None, card.input_size, card.input_size, 1), tf.float32)
        self._forward = tf.function(lambda x: self._model(x, training=False), input_signature=[spec])
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            return self._forward(np.ascontiguousarray(x, dtype=np.float32)).numpy()
