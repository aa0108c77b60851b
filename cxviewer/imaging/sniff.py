"""Tell what a file holds from its first bytes (never from its name)."""

from __future__ import annotations

import struct

DICOM = "DICOM"
HEAD_BYTES = 132

# Groups a DICOM data set without preamble can start with: file meta (0002), identifying
# information (0008, usual in ACR-NEMA style files), or a later group when earlier ones are absent.
_FIRST_GROUPS = (0x0002, 0x0008, 0x0010, 0x0018, 0x0020, 0x0028)


def _looks_like_raw_dataset(head: bytes) -> bool:
    """A data set with no preamble: a plausible first element, implicit or explicit VR."""
    if len(head) < 8:
        return False
    group, _element = struct.unpack("<HH", head[:4])
    if group not in _FIRST_GROUPS:
        return False
    vr = head[4:6]
    return (vr.isalpha() and vr.isupper()) or struct.unpack("<I", head[4:8])[0] < 0x10000


def sniff(head: bytes) -> str | None:
    """"DICOM", "PNG", "JPEG", "WEBP", "TIFF", or None for anything else."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return DICOM
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # TIFF and BigTIFF
        return "TIFF"
    if _looks_like_raw_dataset(head):
        return DICOM
    return None
