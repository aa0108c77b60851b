"""Export file names proposed from header values, made harmless.

A DICOM header is untrusted input: a patient name like ``../../.bashrc``, ``C:\\x``, ``CON``, a
fullwidth ``／`` or a right-to-left override must never steer where a file is written. Each value is
NFKC-normalised (so lookalike separators become real ones first), then everything but letters,
digits, ``-`` and ``_`` becomes ``_``; the result never starts with a dot, is never a Windows reserved
device name and is short enough for every file system.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from cxviewer.imaging.dicom_values import format_date
from cxviewer.report.content import Report

MAX_COMPONENT = 40
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
             *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10)),
             *(f"COM{c}" for c in "¹²³"), *(f"LPT{c}" for c in "¹²³")}
_ALLOWED_EXT = re.compile(r"[a-z0-9]{1,8}")


def sanitize_component(value: str, max_len: int = MAX_COMPONENT, fallback: str = "") -> str:
    """One file-name component from untrusted text: letters, digits, ``-`` and ``_`` only."""
    text = unicodedata.normalize("NFKC", value or "")
    out = []
    for ch in text:
        if ch in "-_" or (ch.isalnum() and unicodedata.category(ch)[0] in "LN"):
            out.append(ch)
        else:
            out.append("_")
    name = re.sub(r"_+", "_", "".join(out)).strip("_-")[:max_len].strip("_-")
    if name.upper() in _RESERVED:
        name = f"_{name}"
    return name or fallback


def proposed_filename(report: Report, ext: str = "pdf", anonymise: bool = False) -> str:
    """``<date>_<accession>_<modality>_report.<ext>``, or ``<date>_study-<hash>_...`` without an
    accession number. Never the patient's name or ID: a file name is seen in folder listings, mail
    attachments and backups, where the report's own access rules do not follow it. Anonymised: no
    accession and no UID hash either."""
    ext = ext.lower().lstrip(".")
    if not _ALLOWED_EXT.fullmatch(ext):
        raise ValueError(f"bad file extension {ext!r}")
    h = report.header
    date = sanitize_component(format_date(h.study_date).replace("-", ""), 8)
    parts = [date]
    if anonymise:
        parts += ["anonymised"]
    else:
        parts += [sanitize_component(h.accession_number, 16) or _study_hash(h.study_uid or h.sop_uid)]
    parts += [sanitize_component(h.modality, 8), "report"]
    if not report.is_final:
        parts.append("draft")
    stem = "_".join(p for p in parts if p)
    return f"{stem}.{ext}"


def _study_hash(uid: str) -> str:
    """``study-<8 hex>``: tells two studies of one day apart without showing the UID ("" without one)."""
    uid = (uid or "").strip()
    return f"study-{hashlib.sha256(uid.encode('utf-8')).hexdigest()[:8]}" if uid else ""


def safe_join(folder: str | Path, filename: str) -> Path:
    """``folder / filename`` guaranteed to be a direct child of ``folder``."""
    folder = Path(folder)
    if filename != Path(filename).name or filename in ("", ".", "..") or "\\" in filename or "/" in filename:
        raise ValueError(f"not a plain file name: {filename!r}")
    target = folder / filename
    if target.resolve().parent != folder.resolve():
        raise ValueError(f"{filename!r} would leave {folder}")
    return target
