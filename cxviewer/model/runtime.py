"""TensorFlow start-up: quiet logs, thread settings, which device runs the model."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)
_device: str | None = None


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
