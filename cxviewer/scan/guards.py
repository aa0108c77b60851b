"""Checks before a scan starts: inputs exist, and results never land inside or beside the images read."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


class ScanSetupError(ValueError):
    """A scan that must not start; the message says what to change."""


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def protected_folders(roots: Iterable[str | os.PathLike]) -> list[Path]:
    """Real folders a scan reads: each folder root, and the folder holding each file root."""
    out = []
    for root in roots:
        real = Path(os.path.realpath(root))
        out.append(real if real.is_dir() else real.parent)
    return out


def check_inputs(roots: Iterable[str | os.PathLike]) -> list[Path]:
    roots = [Path(r) for r in roots]
    if not roots:
        raise ScanSetupError("no file or folder to scan was given")
    missing = [str(r) for r in roots if not r.exists()]
    if missing:
        raise ScanSetupError(f"no such file or folder: {', '.join(missing)}")
    return roots


def check_output(output: str | os.PathLike, roots: Iterable[str | os.PathLike]) -> Path:
    """Refuse an output file inside (or onto) a scanned tree, or beside a scanned file.

    CXViewer never writes into the folders it reads from: a results file there would change the
    user's export folder (and a later scan would find it). Symbolic links are resolved first.
    """
    out = Path(output)
    real = Path(os.path.realpath(out))
    for folder in protected_folders(roots):
        if _inside(real, folder):
            raise ScanSetupError(
                f"refusing to write {out} inside the scanned folder {folder}: CXViewer never writes into or "
                "beside the images it reads. Choose an output file outside the folders being scanned."
            )
    if real.is_dir():
        raise ScanSetupError(f"{out} is a folder; give the name of the results file to write")
    return out


def check_writable(output: str | os.PathLike) -> Path:
    """Refuse an output that cannot be written (checked before the model loads, so a read-only
    folder is reported at once, not after a minute of loading)."""
    out = Path(output)
    real = Path(os.path.realpath(out))
    if real.exists():
        if not os.access(real, os.W_OK):
            raise ScanSetupError(f"cannot write {out}: the file is read-only")
        return out
    ancestor = real.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ScanSetupError(f"cannot write {out}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ScanSetupError(f"cannot write {out}: the folder {ancestor} is not writable")
    return out
