"""``cxviewer soup --soup A.h5,B.h5 [--soup ...] --out-dir DIR``: average fine-tuned checkpoints of one network.

Each ``--soup`` is one candidate (comma-separated weight files). Every candidate gets its BatchNorm statistics
measured again on unaugmented training films, is written as ``DIR/soup_<k>.weights.h5`` (network weights only)
and measured on the validation patients (and, with ``--monitor``, on a folder of other sources, predicted
only) so a candidate can be chosen; ``DIR/soups.json`` holds the figures.
"""

from __future__ import annotations

import argparse


def _standardisation(value: str) -> str:
    from cxviewer.commands.train import standardisation

    standardisation(value)
    if "spectrum" in value:
        raise argparse.ArgumentTypeError("a spectrum-matched run's soup needs its template: not supported here")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--soup", action="append", required=True, help="comma-separated checkpoint weight files")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--data", required=True, help="the training folder (manifest.csv)")
    parser.add_argument("--input-size", type=int, default=128)
    parser.add_argument("--lung-model", default=None, help="segmenter folder when the network runs on lung crops")
    parser.add_argument("--standardise", type=_standardisation, default=None,
                        help="the members' input standardisation (equalize_hist, equalize_hist+lowpass[:SIGMA]; "
                             "a spectrum-matched run needs its template and is not supported here)")
    parser.add_argument("--seed", type=int, default=20201, help="seed of the patient split")
    parser.add_argument("--bn-films", type=int, default=960, help="training films used to measure BatchNorm statistics")
    parser.add_argument("--monitor", default=None, help="labelled folder of other sources: predicted and logged only")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import numpy as np

    from cxviewer.training.dataset import TRAINING_LABELS, label_indices, read_manifest, split_by_patient
    from cxviewer.training.metrics import classification_report
    from cxviewer.training.soup import make_soup
    from cxviewer.training.train import load_readable, lung_crops, prepared_stack

    log = lambda m: print(m, flush=True)  # noqa: E731
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    splits = split_by_patient(read_manifest(args.data), seed=args.seed)
    rng = np.random.default_rng(args.seed)
    train = [splits["train"][i] for i in sorted(rng.permutation(len(splits["train"]))[: args.bn_films])]

    def inputs(samples):
        kept, images = load_readable(samples, log)
        if args.lung_model:
            images, _ = lung_crops(images, args.lung_model)
        return kept, prepared_stack(images, args.input_size, args.standardise)

    _, bn_x = inputs(train)
    val_s, val_x = inputs(splits["val"])
    sets = {"validation": (val_x, label_indices(val_s, TRAINING_LABELS))}
    if args.monitor:
        mon_s, mon_x = inputs(read_manifest(args.monitor))
        sets["monitor"] = (mon_x, label_indices(mon_s, TRAINING_LABELS))
    results = []
    for k, spec in enumerate(args.soup):
        files = [f for f in spec.split(",") if f]
        model = make_soup(files, args.input_size, len(TRAINING_LABELS), bn_x)
        path = out / f"soup_{k}.weights.h5"
        model.save_weights(str(path))
        entry = {"soup": k, "members": files, "weights": str(path)}
        for name, (x, y) in sets.items():
            probs = np.concatenate([model(x[i : i + 32], training=False).numpy() for i in range(0, len(x), 32)])
            rep = classification_report(y, probs, TRAINING_LABELS)
            entry[name] = {"macro_auc": round(rep["macro_auc"], 4), "balanced_accuracy": round(rep["balanced_accuracy"], 4),
                           "recall": {c: round(v["recall"], 3) for c, v in rep["per_class"].items()},
                           "auc": {c: round(v["auc"], 3) for c, v in rep["per_class"].items()}}
        log(json.dumps(entry))
        results.append(entry)
    (out / "soups.json").write_text(json.dumps(results, indent=1))
    return 0
