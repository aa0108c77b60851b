"""The classifier, Qt-free. TensorFlow is imported only when a model is trained, converted or run on TensorFlow."""

from cxviewer.model.card import ModelCard, ModelCardError, load_card
from cxviewer.model.prediction import Prediction
from cxviewer.model.registry import available_models, default_model_dir


def load_classifier(model_dir=None, runtime=None):
    from cxviewer.model.classifier import load_classifier as _load

    return _load(model_dir, runtime)


__all__ = [
    "ModelCard",
    "ModelCardError",
    "Prediction",
    "available_models",
    "default_model_dir",
    "load_card",
    "load_classifier",
]
