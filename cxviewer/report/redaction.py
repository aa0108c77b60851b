"""Anonymised exports (Qt-free): the DICOM confidentiality profile they follow, and the redaction
of identifiers a reader may have typed into the free text, in any case or punctuation.
"""

from __future__ import annotations

import re
import unicodedata

from cxviewer.imaging.dicom_values import format_date

REDACTED = "[redacted]"

# What an anonymised export follows (PS3.15 Annex E, Table E.1-1): the Basic Profile removes or
# empties every identifier, date and time and free-text description; the option keeps the dates.
BASIC_PROFILE = "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile"

KEEP_DATES_OPTION = "Retain Longitudinal Temporal Information with Full Dates Option"

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def profile_name(keep_dates: bool = False) -> str:
    return BASIC_PROFILE + (f" with the {KEEP_DATES_OPTION}" if keep_dates else "")


def date_spellings(da: str) -> list[str]:
    """How people write a DICOM date: 19340517, 1934-05-17, 17/05/1934, 05/17/1934, 17/5/1934,
    17 May 1934, May 17 1934 (punctuation does not matter to ``redact``)."""
    da = (da or "").strip()
    if not re.fullmatch(r"\d{8}", da):
        return [da] if da else []
    y, m, d = da[:4], da[4:6], da[6:]
    month = _MONTHS[int(m) - 1] if 1 <= int(m) <= 12 else m
    out = [da, format_date(da), f"{d}{m}{y}", f"{m}{d}{y}", f"{int(d)}/{int(m)}/{y}", f"{int(m)}/{int(d)}/{y}",
           f"{int(d)} {month} {y}", f"{month} {int(d)} {y}", f"{int(d)} {month[:3]} {y}", f"{month[:3]} {int(d)} {y}"]
    return list(dict.fromkeys(out))


def _loose_pattern(secret: str) -> str | None:
    """A regex for ``secret`` that ignores case, punctuation and spaces between its letters and
    digits ("PID-77341A" also finds "pid 77341a" and "PID77341A")."""
    chars = [ch for ch in secret if ch.isalnum()]
    if len(chars) < 2:
        return None
    return r"[\W_]*".join(re.escape(ch) for ch in chars)


def redact(text: str, secrets: list[str]) -> str:
    """Replace each secret in ``text`` with ``[redacted]``: compared after NFKC normalisation,
    ignoring case, punctuation and spacing (see ``_loose_pattern``)."""
    if not text:
        return text
    text = unicodedata.normalize("NFKC", text)
    for secret in secrets:
        for variant in {secret, unicodedata.normalize("NFKC", secret)}:
            pattern = _loose_pattern(variant) if variant else None
            if pattern:
                text = re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)
            elif variant:
                text = re.sub(re.escape(variant), REDACTED, text, flags=re.IGNORECASE)
    return text
