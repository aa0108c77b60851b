"""``--runtime auto|litert|tensorflow``, shared by the commands that run a model."""

from __future__ import annotations

import argparse


def add_runtime_argument(parser: argparse.ArgumentParser) -> None:
    from cxviewer.model.runtime import RUNTIMES

    parser.add_argument(
        "--runtime", choices=RUNTIMES, default=None,
        help="what runs the network. auto (the default, or $CXVIEWER_RUNTIME): TensorFlow on a usable CUDA GPU, "
             "else LiteRT on the CPU when the model has a converted form (cxviewer export-model), else TensorFlow",
    )
