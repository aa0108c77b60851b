"""Strip the symbol tables off the bundle's shared libraries where that is safe (Linux).

Many wheels ship their libraries with a full symbol table or debug information (libpython 23 MB,
17 MB of it symbols; pylibjpeg's CharLS and OpenJPEG, LiteRT, Pillow...). The dynamic linker only
reads the dynamic symbol table (.dynsym), which `strip --strip-unneeded` keeps.

PyInstaller's own `strip=True` is not used: libraries that auditwheel rewrote with patchelf can come
out of strip with program headers the loader refuses ("ELF load command address/offset not
page-aligned": numpy's OpenBLAS did). Each library is stripped into a copy under the work folder,
and the copy is taken only when every loadable segment still has its file offset and its address
congruent modulo its alignment (what the loader checks) and it is smaller; otherwise the original goes in.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

LOAD = re.compile(r"^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+.*?(0x[0-9a-f]+)\s*$",
                  re.MULTILINE)


def loadable(path: Path) -> bool:
    """Whether every PT_LOAD segment has offset == address modulo its alignment (glibc's check)."""
    out = subprocess.run(["readelf", "-lW", str(path)], capture_output=True, text=True)
    segments = LOAD.findall(out.stdout)
    if out.returncode != 0 or not segments:
        return False
    return all((int(off, 16) - int(addr, 16)) % max(int(align, 16), 1) == 0 for off, addr, align in segments)


def _is_elf(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"\x7fELF"


def strip_binaries(binaries: list, workdir: Path) -> tuple[list, int, list[str]]:
    """The binaries list with stripped copies where safe; bytes saved; names kept unstripped (refused)."""
    if not sys.platform.startswith("linux") or shutil.which("strip") is None or shutil.which("readelf") is None:
        return binaries, 0, []
    workdir.mkdir(parents=True, exist_ok=True)
    result, saved, refused = [], 0, []
    for dest, src, kind in binaries:
        if not _is_elf(src) or Path(src).with_name(Path(src).name + ".hmac").exists():  # signed: leave alone
            result.append((dest, src, kind))
            continue
        key = hashlib.sha1(f"{src}:{Path(src).stat().st_mtime_ns}".encode()).hexdigest()[:16]
        out = workdir / key / Path(src).name
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(out.suffix + ".tmp")
            shutil.copy2(src, tmp)
            done = subprocess.run(["strip", "--strip-unneeded", str(tmp)], capture_output=True)
            if done.returncode != 0 or not loadable(tmp) or tmp.stat().st_size >= Path(src).stat().st_size:
                if done.returncode == 0 and tmp.stat().st_size < Path(src).stat().st_size:
                    refused.append(Path(src).name)
                shutil.copy2(src, tmp)  # the original, so the next build decides the same quickly
            tmp.replace(out)
        saved += Path(src).stat().st_size - out.stat().st_size
        result.append((dest, str(out), kind))
    return result, saved, refused
