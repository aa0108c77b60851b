"""Which runtime runs a model (LiteRT or TensorFlow), and TensorFlow's start-up: quiet logs, which device.

``auto`` (the default) picks TensorFlow when a CUDA GPU is usable (an NVIDIA driver and the ``gpu``
extra's CUDA libraries), else LiteRT when it can be imported and the card has a converted model
(``cxviewer export-model``), else TensorFlow. Deciding imports neither.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)
_device: str | None = None
RUNTIMES = ("auto", "litert", "tensorflow")
RUNTIME_ENV = "CXVIEWER_RUNTIME"  # the default for --runtime (and the viewer's setting "auto")


class ClassifierNetwork(Protocol):
    """What runs a classifier, on either runtime (litert_network / tf_network)."""

    device: str

    def forward(self, x: Any) -> tuple[Any, Any]:
        """(N, S, S, 3) inputs -> (probabilities, gate features)."""

    def explain(self, x: Any) -> tuple[Any, Any, Any]:
        """One input -> (probabilities, Grad-CAM map or None, gate features)."""


class SegmenterNetwork(Protocol):
    """What runs the lung segmenter, on either runtime."""

    device: str

    def __call__(self, x: Any) -> Any:
        """(N, S, S, 1) inputs -> masks."""


def litert_importable() -> bool:
    """ai-edge-litert is installed (no wheel exists for some platforms: then auto means TensorFlow)."""
    try:
        return importlib.util.find_spec("ai_edge_litert") is not None
    except (ImportError, ValueError):
        return False


def tensorflow_importable() -> bool:
    """TensorFlow is installed (the CPU desktop bundle leaves it out)."""
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def cuda_gpu_usable() -> bool:
    """An NVIDIA GPU behind a loaded driver, and TensorFlow's CUDA libraries (``pip install ".[gpu]"``)."""
    gpus = Path("/proc/driver/nvidia/gpus")
    try:
        if not (gpus.is_dir() and any(gpus.iterdir())):
            return False
        return importlib.util.find_spec("nvidia.cudnn") is not None
    except (OSError, ImportError, ValueError):
        return False


def resolve_runtime(card, requested: str | None = None) -> str:
    """"litert" or "tensorflow" for ``card``; ``requested`` is one of RUNTIMES (None: $CXVIEWER_RUNTIME or auto)."""
    from cxviewer.model.card import ModelCardError
    from cxviewer.model.litert_network import tflite_path

    requested = (requested or os.environ.get(RUNTIME_ENV) or "auto").lower()
    if requested not in RUNTIMES:
        raise ModelCardError(f"unknown runtime {requested!r} (choose {', '.join(RUNTIMES)})")
    converted = tflite_path(card) is not None
    if requested == "tensorflow" or (requested == "auto" and not (converted and litert_importable())):
        if not tensorflow_importable():
            raise ModelCardError(
                "TensorFlow is not installed here (a CPU-only build); run on LiteRT"
                + ("" if converted else f" after converting the model: cxviewer export-model {card.directory}"))
        if not card.has_keras_weights:
            raise ModelCardError(
                f"{card.title} has only its LiteRT model here: its Keras weights {card.weights_path.name} are not "
                f"installed (the CPU build leaves them out), so it cannot run on TensorFlow; use --runtime litert"
                + ("" if litert_importable() else ", which needs ai-edge-litert"))
        return "tensorflow"
    if requested == "litert":
        if not litert_importable():
            raise ModelCardError("LiteRT (ai-edge-litert) is not installed here; use the tensorflow runtime")
        if not converted:
            raise ModelCardError(f"{card.title} has no LiteRT model; convert it with: cxviewer export-model {card.directory}")
        return "litert"
    if cuda_gpu_usable() and tensorflow_importable() and card.has_keras_weights:
        return "tensorflow"
    return "litert"


def import_tensorflow():
    """Import TensorFlow once, with its C++ chatter reduced to errors."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def compute_device() -> str:
    """'GPU:0 <name>' when TensorFlow sees a GPU, else 'CPU'. A broken CUDA set-up is a log line."""
    global _device
    if _device is not None:
        return _device
    tf = import_tensorflow()
    try:
        gpus = tf.config.list_physical_devices("GPU")
    except Exception as exc:  # a half-installed CUDA stack must not stop the app
        log.warning("GPU discovery failed, using the CPU: %s", exc)
        gpus = []
    if gpus:
        try:
            for gpu in gpus:
                tf.config.experimental.set_memory_growth(gpu, True)
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "")
        except Exception as exc:
            log.warning("GPU set-up incomplete: %s", exc)
            name = ""
        _device = f"GPU:0 {name}".strip()
    else:
        _device = "CPU"
    log.info("model runs on %s", _device)
    return _device
