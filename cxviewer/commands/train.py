"""``cxviewer train --data DIR --out models/NAME``: train, then evaluate on held-out patients and write the card."""

from __future__ import annotations

import argparse


def standardisation(value: str) -> str:
    """argparse type of ``--standardise``: a name :func:`check_standardise` knows, else a usage error."""
    from cxviewer.model.standardise import check_standardise

    try:
        return check_standardise(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cxviewer.model.standardise import LOCALNORM, LOWPASS, STANDARDISERS

    parser.add_argument("--data", required=True, help="folder with manifest.csv and images/<label>/ (e.g. ../shared/data/cxr)")
    parser.add_argument("--out", required=True, help="model folder to write (e.g. models/cxnet-densenet121)")
    parser.add_argument("--input-size", type=int, default=224, choices=(128, 224, 320))
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--train-size", type=int, default=None,
                        help="train at this lower resolution (progressive resizing; fine-tune later at --input-size)")
    parser.add_argument("--init-weights", default=None, help="start from these weights (e.g. a lower-resolution run)")
    parser.add_argument("--warmup-epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-4, help="peak learning rate after one warm-up epoch")
    parser.add_argument("--seed", type=int, default=20201, help="seed of the patient split and augmentation")
    parser.add_argument("--patience", type=int, default=4, help="epochs without a lower validation loss before stopping")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that passes this budget")
    parser.add_argument("--no-resume", action="store_true", help="start afresh even if checkpoints exist")
    parser.add_argument("--no-evaluate", action="store_true", help="skip held-out evaluation and card writing")
    parser.add_argument("--name", default=None, help="model name in the card (default: the folder name)")
    parser.add_argument("--version", default="1.0.0", help="model version in the card")
    parser.add_argument("--lung-model", default=None,
                        help="lung segmenter folder (e.g. models/lung-unet): train and run on the lung crop")
    parser.add_argument("--standardise", type=standardisation, default=None, metavar="|".join(STANDARDISERS),
                        help="standardise every input (recorded in the card; the app does the same): equalise its "
                             f"histogram, then match its spectrum, or blur it ('{LOWPASS}:SIGMA', SIGMA in pixels "
                             f"of a 128 px input, default 1.5; '{LOWPASS}{LOCALNORM}' also brings its large-scale "
                             "local contrast to one amount)")
    parser.add_argument("--balance-views", action="store_true",
                        help="weight AP and PA films equally within each class (removes the projection as a cue)")
    parser.add_argument("--style-randomise", nargs="?", const="all", default=None,
                        choices=("all", "sharpness", "local-contrast", "amplitude-mix", "contrast-match"),
                        help="randomise each training view's look in every class: 'all' (the default when given "
                             "without a value: blur or unsharp masking, CLAHE, noise), 'sharpness' (unsharp masking "
                             "only), 'local-contrast' (wide unsharp masks: more or less local contrast), "
                             "'amplitude-mix' (its Fourier amplitude mixed with a film of another class's) or "
                             "'contrast-match' (its large-scale local contrast brought to a film of another class's)")
    parser.add_argument("--attention-penalty", type=float, default=0.0, metavar="WEIGHT",
                        help="add WEIGHT x the share of the Grad-CAM map outside the lungs to the loss "
                             "(needs --lung-model; 0: off)")
    parser.add_argument("--consistency", type=float, default=0.0, metavar="WEIGHT",
                        help="give each film two views with one framing and two looks, and add WEIGHT x the "
                             "Jensen-Shannon divergence of their predictions to the loss (needs --lung-model; 0: off)")
    parser.add_argument("--mask-outside-lungs", action="store_true",
                        help="show the network only the lungs: the input outside the (dilated) lung mask is black, "
                             "in training and in the app (needs --lung-model; recorded in the card)")
    parser.add_argument("--monitor", default=None,
                        help="labelled folder from other sources to predict and log each epoch (never trained or fitted on)")
    parser.add_argument("--dicom", default=None, help="folder of non-chest DICOMs to measure the OOD gate's refusals")


def run(args: argparse.Namespace) -> int:
    from cxviewer.training.train import train

    summary = train(
        args.data,
        args.out,
        input_size=args.input_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        patience=args.patience,
        max_minutes=args.max_minutes,
        resume=not args.no_resume,
        train_size=args.train_size,
        init_weights=args.init_weights,
        warmup_epochs=args.warmup_epochs,
        lung_model=args.lung_model,
        standardise=args.standardise,
        balance_views=args.balance_views,
        monitor_dir=args.monitor,
        style_randomise=args.style_randomise,
        attention_penalty=args.attention_penalty,
        mask_outside_lungs=args.mask_outside_lungs,
        consistency=args.consistency,
        log=lambda msg: print(msg, flush=True),
    )
    if not args.no_evaluate:
        from cxviewer.training.evaluate import evaluate_and_write_card

        evaluate_and_write_card(args.data, args.out, summary, name=args.name, version=args.version, dicom_dir=args.dicom)
    return 0
