"""Folders for files that hold patient data: each folder made here is owner-only (0700)."""

from __future__ import annotations

from pathlib import Path


def make_dirs_private(path: Path) -> Path:
    """``path`` and any missing folder above it created owner-only (0700); folders that exist keep their mode
    (``Path.mkdir(parents=True)`` would make the missing parents with the umask's mode, often 0755)."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another thread or process
            if not folder.is_dir():
                raise
    return path
