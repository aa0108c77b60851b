"""``cxviewer train-lungs --data DIR --out models/lung-unet``: train the lung U-Net, measure it, write its card."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="folder with manifest.csv, images/ and masks/ (e.g. ../shared/data/cxr)")
    parser.add_argument("--out", required=True, help="model folder to write (e.g. models/lung-unet)")
    parser.add_argument("--input-size", type=int, default=192)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=20201, help="seed of the patient split (the classifier's own)")
    parser.add_argument("--version", default="1.0.0")


def run(args: argparse.Namespace) -> int:
    from cxviewer.training.lung_card import write_lung_card
    from cxviewer.training.train_lungs import train_lungs

    summary = train_lungs(args.data, args.out, input_size=args.input_size, epochs=args.epochs,
                          batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed,
                          log=lambda msg: print(msg, flush=True))
    write_lung_card(args.data, args.out, summary, version=args.version)
    return 0
