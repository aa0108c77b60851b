"""Run a converted model (``model.tflite``, see :mod:`cxviewer.training.litert_export`) with LiteRT.

LiteRT's interpreter with its default XNNPACK CPU delegate, one thread per core. Imports neither
TensorFlow nor Keras: this is the path the viewer, ``predict``, ``report`` and ``scan`` take on the CPU.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from cxviewer.model.card import ModelCard, ModelCardError

RUNTIME = "litert"


def tflite_path(card: ModelCard):
    """The card's converted model, or None when it has none (or the file is missing)."""
    return card.litert_path


def threads() -> int:
    return max(1, os.cpu_count() or 1)


class LiteRTModel:
    """One interpreter behind a lock (an interpreter serves one call at a time)."""

    def __init__(self, card: ModelCard):
        from ai_edge_litert.interpreter import Interpreter

        path = tflite_path(card)
        if path is None:
            raise ModelCardError(f"{card.title} has no LiteRT model (run: cxviewer export-model {card.directory})")
        self.threads = threads()
        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=self.threads)
            signatures = self._interpreter.get_signature_list()
            self._runner = self._interpreter.get_signature_runner(next(iter(signatures)))
        except (ValueError, RuntimeError, StopIteration) as exc:  # a damaged or foreign file
            raise ModelCardError(f"{card.title}: its LiteRT model {path.name} cannot be loaded ({exc}); "
                                 f"write it again with: cxviewer export-model {card.directory}") from None
        self._lock = threading.Lock()

    @property
    def device(self) -> str:
        return f"CPU (XNNPACK, {self.threads} threads)"

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        with self._lock:
            return self._runner(image=x)


class LiteRTClassifierNetwork:
    """The classifier's network: probabilities + pooled features, and Grad-CAM from the head in numpy."""

    runtime = RUNTIME

    def __init__(self, card: ModelCard):
        from cxviewer.model.head_gradcam import Head

        self._model = LiteRTModel(card)
        self.device = self._model.device
        head = card.data["litert"].get("head_file")
        self._head = Head.load(card.directory / head) if head else None

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self._model(x)
        return out["probabilities"], out["features"]

    def explain(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        out = self._model(x)
        cams = self._head.cams(out["feature_map"]) if self._head is not None else None
        return out["probabilities"], cams, out["features"]


class LiteRTSegmenterNetwork:
    runtime = RUNTIME

    def __init__(self, card: ModelCard):
        self._model = LiteRTModel(card)
        self.device = self._model.device

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._model(x)["lungs"]
