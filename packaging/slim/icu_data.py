"""A smaller ICU data library for the bundle's Qt: only the parts Qt's ICU calls can reach (Linux).

PySide6's Qt is built with ICU, and libicudata (32 MB) holds all of ICU's data in one package
(a "CmnD" table of contents followed by the items). QtCore calls ICU only for collation (ucol_*:
QCollator, the sort order of file dialogs and sorted views), calendars and time-zone names
(ucal_*: QTimeZone's display names), case mapping (u_strToUpper/Lower: QLocale) and legacy
character-set converters (ucnv_*: QStringConverter for encodings Qt does not implement itself).

This rebuilds the data library with the same file name, soname and symbol (icudtNN_dat), without
the items no such call reads: the legacy converter tables (*.cnv: Shift-JIS, EBCDIC, the
Windows code pages... CXViewer hands Qt only Python strings, never bytes to decode), break
iteration rules and dictionaries (brkitr/: Qt does its own text boundaries), and the display names
of languages, regions, currencies and units, transliteration, spelled-out numbers (rbnf/), the
Unicode character names and the stringprep/confusables tables (ICU services Qt never calls).
Collation (coll/), time zones (zone/), the locale tree and normalisation stay.

The check comes first: when QtCore (or anything else in the bundle) calls an ICU function outside
those families, or the data is not laid out as expected, the original library stays and the build
says why. tests/test_packaging.py calls collation, time-zone names, case mapping and a converter
through the bundled ICU.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

QT_ICU_CALLS = re.compile(r"^(ucol_|ucal_|ucnv_|UCNV_|u_strToUpper|u_strToLower)")
DROPPED_TREES = ("brkitr", "curr", "lang", "rbnf", "region", "translit", "unit")
DROPPED_SUFFIXES = (".cnv", ".spp", ".cfu")
DROPPED_FILES = ("unames.icu",)
ALIGN = 16


def _dropped(name: str) -> bool:
    """name like 'icudt73l/coll/root.res': whether the slim package leaves it out."""
    parts = name.split("/")
    return (len(parts) > 2 and parts[1] in DROPPED_TREES) or name.endswith(DROPPED_SUFFIXES) \
        or parts[-1] in DROPPED_FILES


def _symbol_bytes(path: Path) -> tuple[str, bytes]:
    """The exported data symbol (icudtNN_dat) of the library and its bytes."""
    out = subprocess.run(["nm", "-D", "-S", "--defined-only", str(path)], capture_output=True, text=True, check=True)
    rows = [line.split() for line in out.stdout.splitlines() if re.search(r"\bicudt\d+_dat$", line)]
    if len(rows) != 1 or len(rows[0]) != 4:
        raise ValueError(f"expected one icudtNN_dat symbol in {path.name}")
    addr, size, name = int(rows[0][0], 16), int(rows[0][1], 16), rows[0][3]
    blob = path.read_bytes()
    segments = subprocess.run(["readelf", "-lW", str(path)], capture_output=True, text=True, check=True).stdout
    for line in segments.splitlines():
        p = line.split()
        if p and p[0] == "LOAD":
            offset, vaddr, filesz = int(p[1], 16), int(p[2], 16), int(p[4], 16)
            if vaddr <= addr and addr + size <= vaddr + filesz:
                return name, blob[addr - vaddr + offset: addr - vaddr + offset + size]
    raise ValueError(f"{name} is not in a loadable segment of {path.name}")


def slim_package(data: bytes) -> tuple[bytes, int, int]:
    """The common data package without the dropped items; (new bytes, items kept, items dropped)."""
    header_size = struct.unpack_from("<H", data, 0)[0]
    if data[2:4] != b"\xda\x27" or data[12:16] != b"CmnD" or data[8] != 0:  # magic, format, little-endian
        raise ValueError("not a little-endian ICU common data package")
    count = struct.unpack_from("<I", data, header_size)[0]
    toc = [struct.unpack_from("<II", data, header_size + 4 + 8 * i) for i in range(count)]
    ends = [offset for _, offset in toc[1:]] + [len(data) - header_size]
    items = []
    for (name_offset, data_offset), end in zip(toc, ends):
        start = header_size + name_offset
        name = data[start: data.index(b"\0", start)]
        items.append((name, data[header_size + data_offset: header_size + end]))
    kept = [(name, body) for name, body in items if not _dropped(name.decode("ascii"))]
    names_at = 4 + 8 * len(kept)
    names = b"".join(name + b"\0" for name, _ in kept)
    offset = -(-(names_at + len(names)) // ALIGN) * ALIGN
    toc_out, bodies = [], bytearray()
    name_offset = names_at
    for name, body in kept:  # the table stays sorted by name (ICU looks items up by binary search)
        toc_out.append(struct.pack("<II", name_offset, offset + len(bodies)))
        name_offset += len(name) + 1
        bodies += body + b"\0" * (-len(body) % ALIGN)
    out = data[:header_size] + struct.pack("<I", len(kept)) + b"".join(toc_out) + names
    out += b"\0" * (header_size + offset - len(out)) + bodies
    return out, len(kept), len(items) - len(kept)


def slim_icu(binaries: list, workdir: Path) -> tuple[list, list[str]]:
    """The binaries list with the slim libicudata in place of the full one; notes on what happened."""
    if not sys.platform.startswith("linux"):
        return binaries, []
    entry = next((e for e in binaries if re.fullmatch(r"libicudata\.so\.\d+", Path(e[0]).name)), None)
    if entry is None:
        return binaries, ["no ICU data library among the binaries"]
    if shutil.which("gcc") is None:
        return binaries, ["gcc not found: ICU's data kept whole (+29 MB)"]
    try:
        calls = set()
        for dest, src, _ in binaries:
            if Path(dest).name.startswith("libicu") or not open(src, "rb").read(4) == b"\x7fELF":
                continue
            needed = subprocess.run(["readelf", "-dW", src], capture_output=True, text=True).stdout
            if not re.search(r"NEEDED.*\[libicu", needed):
                continue  # ICU's users: QtCore (and ICU's own libraries, which only serve them)
            out = subprocess.run(["nm", "-D", "--undefined-only", src], capture_output=True, text=True).stdout
            calls |= {sym for sym in re.findall(r"\bU (\w+_\d+)\b", out) if re.match(r"^u[a-z0-9]*_|^U[A-Z]+_", sym)}
        other = sorted(c for c in calls if not QT_ICU_CALLS.match(c))
        if other:
            return binaries, [f"ICU's data kept whole: the bundle calls {other[:5]}, beyond what the slim data serves"]
        symbol, data = _symbol_bytes(Path(entry[1]))
        slim, kept, dropped = slim_package(data)
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "icudata.dat").write_bytes(slim)
        soname = Path(entry[0]).name
        asm = workdir / "icudata.S"
        asm.write_text(f"""    .section .rodata
    .globl {symbol}
    .type {symbol}, @object
    .balign {ALIGN}
{symbol}:
    .incbin "{workdir / 'icudata.dat'}"
    .size {symbol}, . - {symbol}
    .section .note.GNU-stack,"",@progbits
""", encoding="utf-8")
        out = workdir / soname
        subprocess.run(["gcc", "-shared", "-nostdlib", "-o", str(out), str(asm), f"-Wl,-soname,{soname}"],
                       check=True, capture_output=True, text=True)
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        return binaries, [f"ICU's data kept whole: {getattr(exc, 'stderr', '') or exc}"]
    result = [(dest, str(out), kind) if (dest, src, kind) == entry else (dest, src, kind) for dest, src, kind in binaries]
    return result, [f"{soname}: {len(data) / 1e6:.0f} -> {out.stat().st_size / 1e6:.1f} MB "
                    f"({kept} items kept, {dropped} dropped: {', '.join(DROPPED_TREES)}, *.cnv, names, stringprep)"]
