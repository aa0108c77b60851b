"""Repair of the ToUnicode maps in a PDF Qt wrote, so text copied or searched is the text written.

Qt's ToUnicode maps pick the lowest code point for a glyph, so CJK ideographs that share a glyph
with a Kangxi radical (山, 田, 日, ...) would come back from text extraction as radicals (⼭, ⽥):
``repair_tounicode`` maps them back to the characters actually written, so names can be searched
and copied. Qt-free (pypdf, optional).
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

log = logging.getLogger(__name__)

def repair_tounicode(pdf_path: Path, written_text: str) -> None:
    """Map glyphs shared by a compatibility character and the text written back to the latter."""
    try:
        from pypdf import PdfReader, PdfWriter
    except ImportError:  # the PDF is still correct to look at; only copy/search of some CJK suffers
        log.info("pypdf is not installed; CJK text in the PDF may extract as radical forms")
        return
    used = set(written_text)
    remap = {c: n for c, n in _COMPAT_FORMS.items() if c not in used and n in written_text}
    if not remap:
        return
    reader = PdfReader(str(pdf_path))
    writer = PdfWriter(clone_from=reader)
    seen, changed = set(), False
    for page in writer.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            font = ref.get_object()
            tu = font.get("/ToUnicode")
            if tu is None:
                continue
            key = getattr(tu, "idnum", id(tu))
            if key in seen:
                continue
            seen.add(key)
            stream = tu.get_object()
            data = stream.get_data()
            new = _remap_cmap(data, remap)
            if new != data:
                stream.set_data(new)
                changed = True
    if changed:
        with open(pdf_path, "wb") as fh:
            writer.write(fh)


def _remap_cmap(data: bytes, remap: dict[str, str]) -> bytes:
    """Rewrite destination code points in a ToUnicode CMap (bfchar and bfrange sections)."""
    import re

    text = data.decode("latin-1")

    def dst(hexstr: str) -> str:
        try:
            s = bytes.fromhex(hexstr).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return hexstr
        if s in remap:
            return remap[s].encode("utf-16-be").hex().upper()
        return hexstr

    def fix_array(m: re.Match) -> str:
        return "[" + re.sub(r"<([0-9A-Fa-f]+)>", lambda h: f"<{dst(h.group(1))}>", m.group(1)) + "]"

    def fix_block(block: str, kind: str) -> str:
        if kind == "bfrange":
            block = re.sub(r"\[([^\]]*)\]", fix_array, block)
            # "<a> <a> <dst>": a one-code range is a plain mapping
            block = re.sub(r"<([0-9A-Fa-f]+)>\s*<\1>\s*<([0-9A-Fa-f]+)>",
                           lambda m: f"<{m.group(1)}> <{m.group(1)}> <{dst(m.group(2))}>", block)
        else:
            block = re.sub(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                           lambda m: f"<{m.group(1)}> <{dst(m.group(2))}>", block)
        return block

    out = re.sub(r"(begin(bfrange|bfchar))(.*?)(end\2)",
                 lambda m: m.group(1) + fix_block(m.group(3), m.group(2)) + m.group(4), text, flags=re.S)
    return out.encode("latin-1")


def _compat_forms() -> dict[str, str]:
    """Compatibility code point -> its NFKC form, for the blocks whose glyphs fonts share.

    CJK radicals and compatibility ideographs (⼭ -> 山), Latin ligatures (ﬁ -> fi) and Arabic
    presentation forms (contextual letter shapes -> the letters).
    """
    table: dict[str, str] = {}
    for start, end in ((0x2E80, 0x2FDF), (0xF900, 0xFAFF), (0xFB00, 0xFB06), (0xFB50, 0xFDFF),
                       (0xFE70, 0xFEFF)):
        for cp in range(start, end + 1):
            c = chr(cp)
            n = unicodedata.normalize("NFKC", c)
            if n != c:
                table[c] = n
    return table


_COMPAT_FORMS = _compat_forms()
