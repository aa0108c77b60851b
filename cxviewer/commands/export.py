"""``cxviewer export FILE -o OUT.png [--window CENTER WIDTH]``: the display as an 8-bit grey PNG.

Writes the default display (the header's first VOI, else the full value range; MONOCHROME1
inverted) or the given window, at native resolution. Refuses to write onto (or into) the input.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

from cxviewer.files.atomic import atomic_write_bytes
from cxviewer.files.output_targets import output_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="radiograph to export (DICOM, PNG, JPEG, WebP or TIFF)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.png", help="PNG file to write")
    parser.add_argument(
        "--window",
        nargs=2,
        type=float,
        metavar=("CENTER", "WIDTH"),
        help="VOI window in modality units (default: the header's first window, else the full range)",
    )


def _output_problem(source: Path, output: Path) -> str | None:
    if output.suffix.lower() != ".png":
        return f"the output must be a .png file (got {output.name!r})"
    return output_problem(source, [output])


def _window_problem(window: list[float] | None) -> str | None:
    if window is None:
        return None
    centre, width = window
    if not (math.isfinite(centre) and math.isfinite(width)):
        return f"the window centre and width must be finite numbers (got {centre:g} {width:g})"
    if not width > 0:
        return f"the window width must be positive (got {width:g})"
    return None


def run(args: argparse.Namespace) -> int:
    import cv2

    from cxviewer.imaging import UnreadableImageError, read_radiograph, render_display

    problem = _output_problem(args.file, args.output)
    if problem:
        print(f"cxviewer export: {problem}", file=sys.stderr)
        return 2
    problem = _window_problem(args.window)
    if problem:
        print(f"cxviewer export: {problem}", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():  # pydicom's notes on odd header values are not for this output
            warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
            rad = read_radiograph(args.file)
    except UnreadableImageError as exc:
        print(f"cxviewer export: cannot read {args.file}: {exc.reason}", file=sys.stderr)
        return 1
    image = render_display(rad, window=tuple(args.window) if args.window else None)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        print("cxviewer export: PNG encoding failed", file=sys.stderr)
        return 1
    try:
        atomic_write_bytes(args.output, encoded.tobytes(), private=True)  # the image of a patient: 0600
    except OSError as exc:
        print(f"cxviewer export: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    rows, cols = image.shape
    print(f"Wrote {args.output} ({cols} x {rows}, 8-bit grey)")
    return 0
