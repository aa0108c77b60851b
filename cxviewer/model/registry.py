"""Find model folders: the bundled ``models/`` and the user's models folder (a dropped-in card shows up)."""

from __future__ import annotations

import logging
from pathlib import Path

from cxviewer.model.card import ModelCard, ModelCardError, load_card

log = logging.getLogger(__name__)
DEFAULT_MODEL = "cxnet-densenet121-v3"  # v3: better on other hospitals' films and on held-out patients than v2 (see the cards)


def model_roots() -> list[Path]:
    from cxviewer import paths

    roots = [paths.models_dir()]
    try:
        roots.append(paths.user_models_dir())
    except OSError as exc:  # the user's own models cannot be looked for: the bundled ones still run
        log.warning("user models not looked for: %s", exc)
    return roots


def available_models(kind: str = "classifier") -> list[ModelCard]:
    """Every runnable model card of ``kind``, bundled first; broken folders are logged and skipped."""
    cards: list[ModelCard] = []
    for root in model_roots():
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            try:
                card = load_card(folder)
            except ModelCardError as exc:
                log.warning("skipping model folder: %s", exc)
                continue
            if card.kind == kind:
                cards.append(card)
    return cards


def find_model(name: str, kind: str) -> ModelCard:
    """The card called ``name`` of ``kind`` (bundled first, then the user's folder)."""
    for card in available_models(kind):
        if card.name == name:
            return card
    raise ModelCardError(f"no {kind} model called {name!r} is installed")


def default_model_dir() -> Path:
    """The model whose card says ``"default": true`` (bundled first), else the one called
    ``DEFAULT_MODEL``, else the first model found."""
    cards = available_models()
    for card in cards:
        if card.data.get("default") is True:
            return card.directory
    for card in cards:
        if card.name == DEFAULT_MODEL:
            return card.directory
    if cards:
        return cards[0].directory
    raise ModelCardError("no model is installed (models/ holds no card.json with weights)")


def default_card() -> ModelCard | None:
    """The default model's card (its labels name the viewer's rows before a model runs), or None."""
    try:
        return load_card(default_model_dir())
    except ModelCardError as exc:
        log.info("no default model card: %s", exc)
        return None
