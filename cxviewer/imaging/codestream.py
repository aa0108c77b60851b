"""Cheap checks of a compressed frame's own header against the DICOM header, before any decoder.

Decoders trust the geometry they are given: GDCM aborts the whole process when a JPEG-LS header
says one row more than the codestream holds, or when a JPEG Lossless image claims 32 bits
allocated. Reading a few bytes of the codestream (JPEG SOF, JPEG-LS SOF55, JPEG 2000 SIZ, the RLE
header) finds such lies first. Only a clear disagreement is refused; a codestream whose header
cannot be found is left to the (supervised) decoder.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pydicom.uid import UID, JPEG2000TransferSyntaxes, JPEGLSTransferSyntaxes, JPEGTransferSyntaxes, RLELossless

_SCAN_BYTES = 1 << 16  # markers before the frame header: JPEG APPn segments are at most 64 KiB each
# Start-of-frame markers: SOF0-3, 5-7, 9-11, 13-15 (JPEG) and SOF55 (JPEG-LS).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RSTn: markers without a length


@dataclass(frozen=True)
class FrameHeader:
    """What a codestream says about its image."""

    codec: str  # "JPEG", "JPEG-LS", "JPEG 2000" or "RLE"
    rows: int  # 0 when the codestream defers it (JPEG DNL)
    columns: int
    components: int
    precision: int


def codec_name(uid: UID) -> str | None:
    """The codec family of a compressed transfer syntax, for people ("JPEG-LS"), or None."""
    if uid in JPEGLSTransferSyntaxes:
        return "JPEG-LS"
    if uid in JPEG2000TransferSyntaxes or "2000" in uid.name:
        return "JPEG 2000"
    if uid in JPEGTransferSyntaxes:
        return "JPEG"
    if uid == RLELossless:
        return "RLE"
    return None


def _jpeg_header(data: bytes, codec: str) -> FrameHeader | None:
    if data[:2] != b"\xff\xd8":
        return None
    i, end = 2, min(len(data), _SCAN_BYTES)
    while i + 4 <= end:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _STANDALONE:
            i += 2
            continue
        if marker == 0xDA:  # start of scan before any frame header
            return None
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in _SOF and i + 10 <= len(data):
            precision, rows, columns, components = struct.unpack(">BHHB", data[i + 4 : i + 10])
            return FrameHeader(codec, rows, columns, components, precision)
        i += 2 + length
    return None


def _j2k_header(data: bytes) -> FrameHeader | None:
    at = data.find(b"\xff\x4f\xff\x51", 0, _SCAN_BYTES)  # SOC then SIZ (also inside a JP2 box)
    if at < 0 or at + 4 + 38 + 3 > len(data):
        return None
    (_lsiz, _rsiz, xsiz, ysiz, xo, yo, _xt, _yt, _xto, _yto, csiz) = struct.unpack(">HHIIIIIIIIH", data[at + 4 : at + 42])
    precision = (data[at + 42] & 0x7F) + 1
    return FrameHeader("JPEG 2000", max(ysiz - yo, 0), max(xsiz - xo, 0), csiz, precision)


def _rle_problem(data: bytes, samples: int, bits: int) -> str | None:
    if len(data) < 64:
        return f"the RLE frame is {len(data)} bytes long, shorter than its 64-byte header"
    header = struct.unpack("<16I", data[:64])
    segments, offsets = header[0], header[1 : 1 + min(header[0], 15)]
    expected = samples * ((bits + 7) // 8)
    if segments != expected:
        return f"the RLE header lists {segments} segments where the image needs {expected}"
    if not offsets or offsets[0] != 64 or any(b <= a for a, b in zip(offsets, offsets[1:])) or offsets[-1] >= len(data):
        return "the RLE header's segment offsets are out of order or point past the frame"
    return None


def first_fragment(pixel_data: bytes) -> bytes | None:
    """The first fragment after the Basic Offset Table of encapsulated pixel data (None if damaged)."""
    from pydicom.encaps import generate_fragments

    try:
        items = generate_fragments(pixel_data)
        next(items)  # the Basic Offset Table
        return next(items)
    except Exception:  # noqa: BLE001 - damaged item structure: the decoder reports it
        return None


def check_codestream(first_fragment: bytes, uid: UID, rows: int, columns: int, samples: int, bits: int) -> str | None:
    """Why the frame's codestream disagrees with the DICOM header, or None when it does not (or
    when its header cannot be found). ``bits`` is Bits Allocated."""
    codec = codec_name(uid)
    if codec is None:
        return None
    if codec == "RLE":
        return _rle_problem(first_fragment, samples, bits)
    if codec in ("JPEG", "JPEG-LS") and bits not in (8, 16):
        return f"{codec} images must have 8 or 16 bits allocated (DICOM PS3.5 8.2), this header says {bits}"
    header = _j2k_header(first_fragment) if codec == "JPEG 2000" else _jpeg_header(first_fragment, codec)
    if header is None:
        return None
    said, held = f"{columns} x {rows}", f"{header.columns} x {header.rows or rows}"
    if header.columns != columns or header.rows not in (0, rows):
        return f"the {codec} codestream holds {held} pixels but the DICOM header says {said}"
    if header.components != samples:
        return f"the {codec} codestream holds {header.components} colour components but the DICOM header says {samples}"
    if header.precision > bits:
        return f"the {codec} codestream holds {header.precision}-bit samples but the DICOM header allocates only {bits} bits"
    return None
