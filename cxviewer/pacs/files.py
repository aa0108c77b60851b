"""The DICOM files to send: named files and every DICOM file (by content) under named folders."""

from __future__ import annotations

import os
from pathlib import Path

from pydicom.dataset import Dataset

from cxviewer.imaging.dicom_file import is_dicom_file, read_header
from cxviewer.imaging.errors import UnreadableImageError


def collect(paths: list[Path]) -> tuple[list[tuple[Path, Dataset]], list[str]]:
    """(path, header) of each sendable file, and one message per file left out."""
    found: list[tuple[Path, Dataset]] = []
    skipped: list[str] = []
    candidates: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                # regular files only: opening a named pipe or a device found in the folder would wait forever
                candidates += [Path(root) / n for n in sorted(names) if not n.startswith(".") and (Path(root) / n).is_file()]
        elif path.is_file():
            candidates.append(path)
        else:
            skipped.append(f"{path}: no such file or folder")
    for path in candidates:
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:  # say why (no permission...), not "not a DICOM file"
            skipped.append(f"{path}: cannot be read ({exc.strerror or exc})")
            continue
        if not is_dicom_file(path):
            if any(p == path for p in paths):
                skipped.append(f"{path}: not a DICOM file")
            continue
        try:
            ds = read_header(path)
        except UnreadableImageError as exc:
            skipped.append(f"{path}: {exc.reason}")
            continue
        meta = getattr(ds, "file_meta", None)
        if not ds.get("SOPClassUID") or not ds.get("SOPInstanceUID") or meta is None or not meta.get("TransferSyntaxUID"):
            skipped.append(f"{path}: no SOP class, SOP instance or transfer syntax in the file (not a DICOM Part 10 file)")
            continue
        found.append((path, ds))
    return found, skipped
