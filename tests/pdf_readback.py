"""Reading a produced PDF back for the report tests: text, embedded images, metadata, raw streams.

pypdf's own image extraction needs Pillow; the embedded images are decoded here with OpenCV
(DCT = JPEG) or zlib-decoded raw samples (Flate), which is all Qt's PDF writer produces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from pypdf import PdfReader


@dataclass
class EmbeddedImage:
    page: int
    name: str
    width: int
    height: int
    pixels: np.ndarray  # H x W (grey) or H x W x 3 (RGB)


def read_text(path: Path) -> str:
    """Extracted text; pypdf turns word gaps into tabs, which become single spaces here."""
    text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))


def squash(text: str) -> str:
    """Text without whitespace: extraction breaks lines where Qt switches fonts (Latin -> CJK) or wraps."""
    return re.sub(r"\s+", "", text)


def read_images(path: Path) -> list[EmbeddedImage]:
    out = []
    for i, page in enumerate(PdfReader(str(path)).pages):
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if xobjects is None:
            continue
        for name, ref in xobjects.get_object().items():
            obj = ref.get_object()
            if obj.get("/Subtype") != "/Image":
                continue
            w, h = int(obj["/Width"]), int(obj["/Height"])
            filters = obj.get("/Filter")
            filters = [filters] if isinstance(filters, str) else list(filters or [])
            if "/DCTDecode" in filters:
                data = obj.get_data() if filters == ["/DCTDecode"] else obj._data
                arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
                if arr is not None and arr.ndim == 3:
                    arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
            else:
                raw = np.frombuffer(obj.get_data(), np.uint8)
                channels = max(1, raw.size // (w * h))
                arr = raw[: w * h * channels].reshape(h, w, channels) if channels > 1 else raw[: w * h].reshape(h, w)
            out.append(EmbeddedImage(i, str(name), w, h, arr))
    return out


def all_bytes(path: Path) -> bytes:
    """The file's raw bytes followed by every stream decoded (content, fonts' ToUnicode, XMP...)."""
    reader = PdfReader(str(path))
    chunks = [Path(path).read_bytes()]
    ids = set(reader.xref_objStm)
    for table in reader.xref.values():
        ids |= set(table)
    for num in sorted(ids):
        try:
            obj = reader.get_object(num)
        except Exception:  # a free entry or an object pypdf cannot parse: the raw bytes still count
            continue
        if hasattr(obj, "get_data"):
            try:
                chunks.append(obj.get_data())
            except Exception:
                chunks.append(getattr(obj, "_data", b""))
    return b"\n".join(chunks)


def metadata(path: Path) -> dict:
    reader = PdfReader(str(path))
    meta = {k: str(v) for k, v in (reader.metadata or {}).items()}
    xmp = reader.xmp_metadata
    if xmp is not None:
        meta["xmp"] = xmp.stream.get_data().decode("utf-8", "replace")
    return meta


def page_sizes_pt(path: Path) -> list[tuple[float, float]]:
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(str(path)).pages]
