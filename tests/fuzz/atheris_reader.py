"""Coverage-guided fuzzing of ``read_radiograph`` and the display with atheris (optional extra).

    pip install ".[fuzz]"
    python tests/fuzz/atheris_reader.py CORPUS_DIR [-max_total_time=600] [-rss_limit_mb=1536]

Seed CORPUS_DIR with real files (e.g. a copy of ../shared/data/dicom). The property is the
reader's contract (README "Bad files"): every input either reads as a 2-D image of finite values
that ``render_display`` draws, or raises UnreadableImageError; anything else is a finding.
Decoder crashes do not count here: they happen in the decoder pool's processes, not this one.
Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    import numpy as np

    from cxviewer.imaging import UnreadableImageError, read_radiograph, render_display

_FD, _PATH = tempfile.mkstemp(prefix="cxviewer-atheris-", suffix=".dcm")
os.close(_FD)


def one_input(data: bytes) -> None:
    with open(_PATH, "wb") as fh:
        fh.write(data)
    try:
        rad = read_radiograph(_PATH)
    except UnreadableImageError:
        return
    assert rad.pixels.ndim == 2, rad.pixels.shape
    assert rad.pixels.dtype.kind != "f" or np.isfinite(rad.pixels).all()
    for window in [None, *rad.voi_presets]:
        shown = render_display(rad, window)
        assert shown.shape == rad.pixels.shape and shown.dtype == np.uint8


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
