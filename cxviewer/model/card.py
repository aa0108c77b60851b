"""Model cards: ``models/<name>/card.json`` is the single source the app reads to run a model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cxviewer.class_names import display_name
from cxviewer.files.atomic import atomic_write_text
from cxviewer.model.standardise import check_standardise

CARD_FILE = "card.json"
REQUIRED = ("name", "version", "architecture", "weights", "labels", "input")


class ModelCardError(ValueError):
    """A model folder whose card is missing or does not describe a runnable model."""


@dataclass(frozen=True)
class ModelCard:
    directory: Path
    data: dict = field(repr=False)

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def version(self) -> str:
        return self.data["version"]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.data["labels"])

    @property
    def display_names(self) -> dict[str, str]:
        """Each label's reader-facing name, keyed by the card's labels (see :func:`display_name`)."""
        own = self.data.get("display_names") or {}
        return {label: display_name(label, own) for label in self.labels}

    @property
    def architecture(self) -> str:
        return self.data["architecture"]

    @property
    def input_size(self) -> int:
        return int(self.data["input"]["size"])

    @property
    def standardise(self) -> str | None:
        """The input standardisation the model was trained with (``input.standardise``), or None."""
        return self.data["input"].get("standardise")

    @property
    def spectrum_template(self) -> list[float] | None:
        """The radial log-amplitude template of the 'equalize_hist+spectrum' standardisation (``input.spectrum_template``)."""
        return self.data["input"].get("spectrum_template")

    @property
    def mask_outside_lungs(self) -> bool:
        """Does the model see only its lungs (``input.mask_outside_lungs``: the input outside them is black)?"""
        return bool(self.data["input"].get("mask_outside_lungs", False))

    @property
    def weights_path(self) -> Path:
        """The Keras weights (what TensorFlow runs; the CPU desktop bundle leaves them out)."""
        return self.directory / self.data["weights"]

    @property
    def has_keras_weights(self) -> bool:
        return self.weights_path.is_file()

    @property
    def litert_path(self) -> Path | None:
        """The converted model (``litert.file``, see ``cxviewer export-model``), or None when absent."""
        entry = self.data.get("litert")
        if not isinstance(entry, dict) or not entry.get("file"):
            return None
        path = self.directory / entry["file"]
        return path if path.is_file() else None

    @property
    def gradcam_layer(self) -> str:
        return self.data.get("gradcam_layer", "relu")

    @property
    def metrics(self) -> dict:
        return self.data.get("metrics", {})

    @property
    def kind(self) -> str:
        """"classifier" (the default) or "segmentation" (the lung U-Net, which the model menu does not list)."""
        return self.data.get("kind", "classifier")

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}"


def load_card(directory: str | Path) -> ModelCard:
    directory = Path(directory)
    path = directory / CARD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelCardError(f"{directory} has no {CARD_FILE}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelCardError(f"cannot read model card {path}: {exc}") from None
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ModelCardError(f"model card {path} lacks {', '.join(missing)}")
    card = ModelCard(directory, data)
    if isinstance(data.get("input"), dict) and data["input"].get("standardise") is not None:
        try:  # a model whose input recipe this version cannot make is refused now, not at its first film
            check_standardise(data["input"]["standardise"])
        except ValueError as exc:
            raise ModelCardError(f"model card {path}: {exc}") from None
    # runnable on one runtime at least: Keras weights (TensorFlow) or a converted model (LiteRT)
    if not card.has_keras_weights and card.litert_path is None:
        raise ModelCardError(f"model card {path} names weights {card.weights_path.name}, which are missing")
    return card


def save_card(directory: str | Path, data: dict) -> Path:
    path = Path(directory) / CARD_FILE
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", private=False)
