"""``cxviewer export-model MODEL_DIR``: write the LiteRT form of a model folder's Keras weights.

The converted model (``model.tflite``, float32) and, for a classifier, its head's weights
(``head.npz``, for Grad-CAM without TensorFlow) go into the folder; the card records both with
their SHA-256. Needs TensorFlow (conversion only; running the result does not).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a model folder with card.json and Keras weights")


def run(args: argparse.Namespace) -> int:
    from cxviewer.model import ModelCardError
    from cxviewer.training.litert_export import export_model

    try:
        entry = export_model(args.model_dir)
    except ModelCardError as exc:
        print(f"cxviewer export-model: {exc}", file=sys.stderr)
        return 1
    files = [entry["file"]] + ([entry["head_file"]] if "head_file" in entry else [])
    print(f"{args.model_dir}: wrote {', '.join(files)} (sha256 {entry['sha256'][:16]}...) and recorded them in card.json")
    return 0
