"""The ``cxviewer`` command.

No arguments, or paths and GUI options (``--sample``): the GUI (``cxviewer.ui.app.run_gui``). Otherwise a subcommand that drives the Qt-free core
headless. Each subcommand lives in ``cxviewer/commands/<name>.py`` with ``add_arguments(parser)``
and ``run(args) -> int``; modules are imported only when their subcommand runs, so
``cxviewer export`` never pays for TensorFlow or Qt.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

from cxviewer import __version__

# name -> (module under cxviewer.commands, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "export": ("export", "write the displayed image as an 8-bit grey PNG"),
    "predict": ("predict", "classify one radiograph with the bundled model"),
    "train": ("train", "train a classifier from a folder of labelled radiographs"),
    "train-lungs": ("train_lungs", "train the lung segmenter on the masked radiographs of a folder"),
    "evaluate": ("evaluate", "evaluate a trained model on its held-out patients"),
    "soup": ("soup", "average fine-tuned checkpoints of one network (weights averaged, BatchNorm re-measured)"),
    "compare": ("compare", "compare two classifiers on the same held-out patients"),
    "scan": ("scan", "triage every radiograph under one or more folders"),
    "report": ("report", "write a PDF findings report for one radiograph"),
    "pacs": ("pacs", "query, retrieve, send and receive DICOM objects (DIMSE or DICOMweb)"),
    "export-model": ("export_model", "convert a model folder's Keras weights to LiteRT (model.tflite)"),
}


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxviewer",
        description="Chest radiograph viewer with an AI second opinion. "
        "Run without a subcommand (optionally with files or folders) to open the viewer.",
    )
    parser.add_argument("--version", action="version", version=f"cxviewer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(_module=module)
        try:
            mod = importlib.import_module(f"cxviewer.commands.{module}")
        except ModuleNotFoundError as exc:  # subcommand not built in this checkout
            if exc.name != f"cxviewer.commands.{module}":
                raise
            sp.set_defaults(_missing=True)
            continue
        mod.add_arguments(sp)
    return parser


_COMMAND_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")  # no dot, no separator: not a file name


def unknown_command_message(word: str) -> str:
    """What ``cxviewer WORD ...`` says when WORD is neither a subcommand nor a file or folder."""
    width = max(len(n) for n in SUBCOMMANDS)
    lines = [f"cxviewer: unknown command {word!r} (and no file or folder of that name).", "Commands:"]
    lines += [f"  {name:<{width}}  {help_text}" for name, (_m, help_text) in SUBCOMMANDS.items()]
    lines.append("Run 'cxviewer' alone, or with existing files or folders, to open the viewer.")
    return "\n".join(lines)


def _all_paths_missing(argv: list[str]) -> list[str]:
    """The paths of a viewer command line when every one of them is missing (else []). With an option
    (``--sample``...) or one existing path the viewer opens and reports the missing ones itself."""
    if not argv or argv[0] in SUBCOMMANDS or any(a.startswith("-") for a in argv):
        return []
    return [] if any(Path(a).exists() for a in argv) else argv


def _read_ahead(argv: list[str]):
    """The viewer's first film read from now on (``cxviewer.imaging.read_ahead``), or None: the GUI's options are
    ``--sample`` and ``--smoke-test`` (both show the bundled sample), everything else not an option is a path."""
    if "-h" in argv or "--help" in argv or "--version" in argv:
        return None
    from cxviewer.imaging.read_ahead import launch_read_ahead  # imports neither numpy nor pydicom here

    return launch_read_ahead([a for a in argv if not a.startswith("-")],
                             sample="--sample" in argv or "--smoke-test" in argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = argv[0] if argv else ""
    if _COMMAND_LIKE.fullmatch(first) and first not in SUBCOMMANDS and not Path(first).exists():
        # a misspelt subcommand must not open the viewer and report its words as missing files; a
        # word with a dot or a slash names a file, and the viewer says it is missing
        print(unknown_command_message(first), file=sys.stderr)
        return 2
    missing = _all_paths_missing(argv)
    if missing:  # nothing to show: say so here rather than open an empty viewer that says it
        for path in missing:
            print(f"cxviewer: no such file: {path}", file=sys.stderr)
        return 2
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        read_ahead = _read_ahead(argv)  # the film named at launch goes to its decoder before Qt is imported
        from cxviewer.ui.app import run_gui  # Qt is only imported for the GUI

        return run_gui(argv, read_ahead=read_ahead)
    parser = _build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_missing", False):
        parser.error(f"subcommand {args.command!r} is not available in this build")
    try:
        return int(importlib.import_module(f"cxviewer.commands.{args._module}").run(args) or 0)
    except ModuleNotFoundError as exc:  # train, export-model...: the CPU desktop bundle leaves TensorFlow out
        if (exc.name or "").split(".")[0] not in ("tensorflow", "keras"):
            raise
        print(f"cxviewer {args.command}: needs TensorFlow, which this build leaves out (the CPU desktop bundle); "
              "use the GPU bundle or a pip install of cxviewer", file=sys.stderr)
        return 1
