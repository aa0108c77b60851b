"""``cxviewer compare models/A models/B [--write]``: two classifiers on the same held-out patients."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs=2, help="two model folders evaluated with the same data and seed")
    parser.add_argument("--write", action="store_true", help="also put the table into both cards (card.json, card.md)")


def run(args: argparse.Namespace) -> int:
    import sys

    from cxviewer.model.card import ModelCardError, load_card
    from cxviewer.training.compare import comparison_markdown, write_comparison

    try:
        cards = [load_card(m) for m in args.models]
    except ModelCardError as exc:
        print(f"cxviewer compare: {exc}", file=sys.stderr)
        return 1
    print(write_comparison(cards) if args.write else comparison_markdown(cards))
    return 0
