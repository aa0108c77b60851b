"""Deflated Explicit VR Little Endian data sets, inflated with a bound.

pydicom inflates a deflated data set whole before reading it, so 3 MB of zeros deflated can ask
for gigabytes. Here the data set is inflated in steps: until the Pixel Data element appears it
may grow to ``HEADER_ALLOWANCE``; once the header before it is known, to that header's image size
(rows x columns x samples x bytes x frames) plus ``TRAILER_ALLOWANCE``, never beyond
``MAX_INFLATED``. Anything larger is refused as a decompression bomb.
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path

from pydicom.dataset import Dataset, FileDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import _read_file_meta_info, read_dataset, read_preamble
from pydicom.uid import DeflatedExplicitVRLittleEndian

HEADER_ALLOWANCE = 64 << 20  # header elements before the pixels (icons, overlays, private data)
TRAILER_ALLOWANCE = 1 << 20  # elements after the pixels (padding, signatures)
MAX_INFLATED = 768 << 20  # whatever the header says
_STEP = 4 << 20
_PIXEL_DATA = b"\xe0\x7f\x10\x00"
_MAX_HEADER_TRIES = 8


class InflationError(Exception):
    """The deflated data set is damaged or expands beyond its bound; the message is for people."""


def _image_bytes(header: Dataset) -> int | None:
    try:
        rows, cols = int(header.Rows), int(header.Columns)
        bits, spp = int(header.BitsAllocated), int(header.get("SamplesPerPixel", 1) or 1)
        frames = int(header.get("NumberOfFrames", 1) or 1)
    except Exception:  # noqa: BLE001 - any missing or odd value: no bound from this header
        return None
    if min(rows, cols, bits, spp, frames) < 1:
        return None
    return math.ceil(rows * cols * spp * frames * bits / 8)


def _bound_after_header(data: bytearray, start: int) -> tuple[int | None, int]:
    """(bound, where to search next) once a Pixel Data tag whose prefix parses is found."""
    at = data.find(_PIXEL_DATA, start)
    while at >= 0:
        if data[at + 4 : at + 6] in (b"OB", b"OW", b"UN"):
            try:
                header = read_dataset(DicomBytesIO(bytes(data[:at])), is_implicit_VR=False, is_little_endian=True)  # type: ignore[arg-type]  # pydicom reads its own DicomBytesIO; its hint says BinaryIO
                size = _image_bytes(header)
            except Exception:  # noqa: BLE001 - the tag bytes were inside another value
                size = None
            if size is not None:
                return min(at + 12 + size + TRAILER_ALLOWANCE, MAX_INFLATED), at + 1
        return None, at + 1
    return None, max(start, len(data) - 3)


def inflate(compressed: bytes) -> bytes:
    """The raw-deflated data set, bounded as described above; raises InflationError."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = bytearray()
    bound, search_from, tries, pending = HEADER_ALLOWANCE, 0, 0, compressed
    try:
        while True:
            chunk = inflater.decompress(pending, _STEP)
            out += chunk
            pending = inflater.unconsumed_tail
            while bound == HEADER_ALLOWANCE and tries < _MAX_HEADER_TRIES and out.find(_PIXEL_DATA, search_from) >= 0:
                tries += 1
                found, search_from = _bound_after_header(out, search_from)
                bound = found or bound
            if len(out) > bound:
                raise InflationError(
                    f"The deflated data set expands beyond {bound / 2**20:,.0f} MiB, more than its header can need; "
                    "it is refused as a possible decompression bomb."
                )
            if inflater.eof or (not pending and len(chunk) < _STEP):
                return bytes(out)
    except zlib.error as exc:
        raise InflationError(f"The deflated data set is damaged and cannot be inflated ({exc}).") from None


def read_deflated(path: Path) -> FileDataset | None:
    """The data set of a deflated file, inflated with a bound; None when the file is not deflated."""
    with path.open("rb") as f:
        try:
            preamble = read_preamble(f, force=True)
            meta = _read_file_meta_info(f)
        except Exception:  # noqa: BLE001 - no readable file meta: not a deflated file either
            return None
        if meta.get("TransferSyntaxUID") != DeflatedExplicitVRLittleEndian:
            return None
        compressed = f.read()
    buffer = DicomBytesIO(inflate(compressed))
    ds = read_dataset(buffer, is_implicit_VR=False, is_little_endian=True)  # type: ignore[arg-type]
    return FileDataset(str(path), ds, preamble=preamble, file_meta=meta, is_implicit_VR=False, is_little_endian=True)


def dcmread_bounded(path: str | Path, **kwargs) -> Dataset:
    """``pydicom.dcmread(path, force=True, **kwargs)``, except that a deflated data set is inflated
    with the bound above (raises InflationError past it). For every header read of untrusted files."""
    import pydicom

    path = Path(path)
    return read_deflated(path) or pydicom.dcmread(path, force=True, **kwargs)
