"""Find model folders: the bundled ``models/`` and the user's models folder (a dropped-in card shows up)."""

from __future__ import annotations

import logging
from pathlib import Path

from cxviewer.model.card import ModelCard, ModelCardError, load_card

log = logging.getLogger(__name__)
DEFAULT_MODEL = "cxnet-densenet121"


def model_roots() -> list[Path]:
    from cxviewer import paths

    return [paths.models_dir(), paths.user_models_dir()]


def available_models() -> list[ModelCard]:
    """Every runnable model card, bundled first; broken folders are logged and skipped."""
    cards: list[ModelCard] = []
    for root in model_roots():
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            try:
                cards.append(load_card(folder))
            except ModelCardError as exc:
                log.warning("skipping model folder: %s", exc)
    return cards


def default_model_dir() -> Path:
    """The bundled default model if present, else the first model found."""
    cards = available_models()
    for card in cards:
        if card.name == DEFAULT_MODEL and card.data.get("default", True):
            return card.directory
    if cards:
        return cards[0].directory
    raise ModelCardError("no model is installed (models/ holds no card.json with weights)")
