"""``cxviewer evaluate --data DIR --model models/NAME``: re-run the held-out evaluation and rewrite the card."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="the training folder (manifest.csv)")
    parser.add_argument("--model", required=True, help="model folder with train_summary.json and weights")
    parser.add_argument("--name", default=None)
    parser.add_argument("--version", default="1.0.0")
    parser.add_argument("--dicom", default=None, help="folder of non-chest DICOMs to measure the OOD gate's refusals")
    parser.add_argument("--cross-source", default=None,
                        help="labelled folder of films from other sources (e.g. ../shared/data/cxr-crosssource): measured "
                             "and reported in the card as cross-source validation, never fitted on")
    parser.add_argument("--update", action="store_true",
                        help="keep the training record and out-of-scope rules; refit the calibration on the validation "
                             "patients and re-measure the held-out patients (and --cross-source) through it")
    parser.add_argument("--ood-only", action="store_true",
                        help="refit and measure only the out-of-scope rules; keep the card's held-out figures")


def run(args: argparse.Namespace) -> int:
    from cxviewer.training.evaluate import evaluate_and_write_card, refit_scope_rules

    problem = _not_a_classifier_folder(Path(args.model), needs_summary=not (args.update or args.ood_only))
    if problem:
        print(f"cxviewer evaluate: {problem}", file=sys.stderr)
        return 2
    if args.update:
        from cxviewer.training.evaluate import update_card

        update_card(args.data, args.model, args.cross_source, log=lambda m: print(m, flush=True))
        return 0
    if args.ood_only:
        refit_scope_rules(args.data, args.model, dicom_dir=args.dicom, log=lambda m: print(m, flush=True))
        return 0
    summary = json.loads((Path(args.model) / "train_summary.json").read_text())
    evaluate_and_write_card(args.data, args.model, summary, name=args.name, version=args.version, dicom_dir=args.dicom,
                            log=lambda m: print(m, flush=True), held_out=False)
    from cxviewer.training.evaluate import update_card

    update_card(args.data, args.model, args.cross_source, log=lambda m: print(m, flush=True))
    return 0


def _not_a_classifier_folder(folder: Path, needs_summary: bool) -> str:
    """Why ``folder`` cannot be evaluated as a classifier, or "" (a lung segmenter's folder, a folder
    without a training record)."""
    card = folder / "card.json"
    if card.is_file():
        try:
            kind = json.loads(card.read_text(encoding="utf-8")).get("kind", "classifier")
        except (OSError, ValueError) as exc:
            return f"{card} cannot be read: {exc}"
        if kind != "classifier":
            return f"{folder} holds a {kind} model, not a classifier (cxviewer train-lungs measures the lung segmenter)"
    if needs_summary and not (folder / "train_summary.json").is_file():
        return f"{folder} has no train_summary.json: evaluate a folder written by cxviewer train"
    return ""
