"""``cxviewer export FILE -o OUT.png [--window CENTER WIDTH]``: the display as an 8-bit grey PNG.

Writes the default display (the header's first VOI, else the full value range; MONOCHROME1
inverted) or the given window, at native resolution. Refuses to write onto (or into) the input.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from cxviewer.files.atomic import atomic_write_bytes


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
    src, out = source.resolve(), output.resolve()
    if out == src or src in out.parents or (output.exists() and source.exists() and os.path.samefile(source, output)):
        return "refusing to write onto or into the input file"
    if out.is_dir():
        return f"{output} is a folder; give a file name ending in .png"
    if not out.parent.is_dir():
        return f"the output folder {out.parent} does not exist"
    return None


def run(args: argparse.Namespace) -> int:
    import cv2

    from cxviewer.imaging import UnreadableImageError, read_radiograph, render_display

    problem = _output_problem(args.file, args.output)
    if problem:
        print(f"cxviewer export: {problem}", file=sys.stderr)
        return 2
    if args.window is not None and not args.window[1] > 0:
        print(f"cxviewer export: the window width must be positive (got {args.window[1]:g})", file=sys.stderr)
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
