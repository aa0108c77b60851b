"""DICOM values as a reader sees them, one rule each: person names (PN), dates (DA), times (TM), ages (AS),
sex, and identifiers made safe to draw. The viewer's corner text, the study browser and the report all
format through here, so the same patient reads the same everywhere (Qt-free).

Person names: ``YAMADA^TARO=山田^太郎=やまだ^たろう`` -> ``YAMADA, TARO (山田 太郎 / やまだ たろう)``: the
alphabetic group as "Family, Given Middle", the ideographic and phonetic groups in brackets as their
writers order them (family name first, no comma).
"""

from __future__ import annotations

import re
import unicodedata

_SEX = {"M": "Male", "F": "Female", "O": "Other"}
_AGE_UNITS = {"D": "day", "W": "week", "M": "month", "Y": "year"}


def shown(text: str) -> str:
    """An identifier as it may be drawn: bidirectional controls and other invisible format or
    control characters written as escapes (U+202E would otherwise draw "1234" as "4321")."""
    return "".join(
        f"\\u{ord(ch):04X}" if unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cs") else ch for ch in text or ""
    )


def _is_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(c) in ("W", "F") for c in text)


def format_person_name(pn: str) -> str:
    """DICOM PN -> readable text: ``YAMADA^TARO=山田^太郎`` -> ``YAMADA, TARO (山田 太郎)``.

    Components are family^given^middle^prefix^suffix; a group written in wide (CJK) characters keeps
    family-name-first order without a comma. Empty groups are skipped."""
    groups = [g for g in (pn or "").split("=")]
    texts = []
    for group in groups:
        parts = [p.strip() for p in group.split("^")]
        parts += [""] * (5 - len(parts))
        family, given, middle, prefix, suffix = parts[:5]
        first = " ".join(x for x in (prefix, given, middle) if x)
        if _is_cjk(group):
            text = " ".join(x for x in (family, first, suffix) if x)
        else:
            text = ", ".join(x for x in (family, first) if x)
            text = " ".join(x for x in (text, suffix) if x)
        if text:
            texts.append(text)
    if not texts:
        return ""
    return texts[0] + (f" ({' / '.join(texts[1:])})" if len(texts) > 1 else "")


def format_date(da: str) -> str:
    """DICOM DA ``YYYYMMDD`` (or the ``YYYY.MM.DD`` of ACR-NEMA and DICOM before 1993, PS3.5 6.2)
    -> ``YYYY-MM-DD``; anything else is shown as it is."""
    da = (da or "").strip()
    if re.fullmatch(r"\d{8}", da):
        return f"{da[:4]}-{da[4:6]}-{da[6:]}"
    if re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", da):
        return da.replace(".", "-")
    return da


def format_time(tm: str) -> str:
    """DICOM TM ``HHMMSS.ffffff`` (or ``HH:MM:SS``) -> ``HH:MM``; anything else is shown as it is."""
    tm = (tm or "").strip().replace(":", "")
    if re.fullmatch(r"\d{4}(\d{2}(\.\d*)?)?", tm):
        return f"{tm[:2]}:{tm[2:4]}"
    return tm


def format_age(age: str) -> str:
    """DICOM AS ``nnnD|W|M|Y`` -> ``45 years``, ``3 months``, ``1 day``; anything else is shown as it is."""
    age = (age or "").strip().upper()
    match = re.fullmatch(r"(\d{3})([DWMY])", age)
    if match is None:
        return age
    n = int(match.group(1))
    return f"{n} {_AGE_UNITS[match.group(2)]}{'' if n == 1 else 's'}"


def format_sex(sex: str) -> str:
    """DICOM Patient's Sex ``M``/``F``/``O`` -> ``Male``/``Female``/``Other``; anything else as it is."""
    sex = (sex or "").strip().upper()
    return _SEX.get(sex, sex)
