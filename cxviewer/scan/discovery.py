"""Find the images under the folders a user hands to a scan, by content, in a stable order.

A file is a candidate when its bytes say it is DICOM (``DICM`` at offset 128, or a data set
without preamble that a forced header read accepts) or a PNG/JPEG/WebP/TIFF image, or when its
name claims to be one (``.dcm``, ``.png`` ...) even though its bytes do not: such a file is still
handed to the reader, so a broken or mislabelled file is reported instead of skipped silently.
Everything else is counted as "ignored" so the summary can say how many files were not images.

The walk is a generator (memory does not grow with the number of files), visits every real
directory at most once (symlink loops and folders reached twice are skipped) and yields files
in sorted name order: files of a folder first, then its subfolders. Entries that are neither
folders nor regular files (named pipes, sockets, devices, dangling links) are yielded too, so
that the scan gives each an error row; nothing here opens them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Names that claim to be images; a candidate even when the content does not agree.
IMAGE_SUFFIXES = frozenset(
    {".dcm", ".dicom", ".dic", ".ima", ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".tif", ".tiff"}
)


def sniff_format(path: str | os.PathLike) -> str | None:
    """``"DICOM"``, ``"PNG"``, ``"JPEG"``, ``"WEBP"``, ``"TIFF"`` from the file's bytes, or ``None``.

    The magic bytes are the imaging core's (:func:`cxviewer.imaging.sniff.sniff`); a data set
    without preamble is only believed when a forced header read finds real image elements.
    """
    from cxviewer.imaging.dicom_probe import plausible_dataset
    from cxviewer.imaging.sniff import HEAD_BYTES, sniff

    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    kind = sniff(head)
    if kind == "DICOM" and head[128:132] != b"DICM" and not plausible_dataset(path):
        return None
    return kind


@dataclass
class Discovery:
    """Walks the roots; ``ignored`` counts files that are not images, ``skipped_dirs`` the folders not entered."""

    roots: list[Path]
    recursive: bool = True
    ignored: int = 0
    skipped_dirs: list[str] = field(default_factory=list)  # symlink loops, repeats, unreadable folders

    def __iter__(self) -> Iterator[Path]:
        seen_dirs: set[tuple[int, int]] = set()
        # Files named on their own are reported where they were named, not again inside a named folder.
        self._named_files = {r for r in self.roots if not r.is_dir()}
        for root in self.roots:
            if root.is_dir():
                yield from self._walk(root, seen_dirs, depth=0)
            elif not root.exists():
                self.skipped_dirs.append(f"{root}: no such file or folder")
            else:
                yield root  # named by the user: always reported, even if it turns out not to be an image

    def is_candidate(self, path: Path) -> bool:
        if path.name.startswith("._"):
            return False  # macOS AppleDouble companions of copied files, never images
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return True
        return sniff_format(path) is not None

    def _walk(self, folder: Path, seen_dirs: set, depth: int) -> Iterator[Path]:
        try:
            st = folder.stat()
        except OSError as exc:
            self.skipped_dirs.append(f"{folder}: {exc.strerror or exc}")
            return
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:  # a symlink loop, or a folder reached twice through links/overlapping roots
            self.skipped_dirs.append(f"{folder}: already scanned (symbolic link to a folder seen before)")
            return
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.skipped_dirs.append(f"{folder}: {exc.strerror or exc}")
            return
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir():  # follows links; loops are caught by seen_dirs
                    subdirs.append(entry)
                    continue
                regular = entry.is_file()
            except OSError:
                regular = False
            path = Path(entry.path)
            if path in self._named_files:
                continue
            if not regular:
                yield path  # a named pipe, socket, device or dangling link: an error row, never opened
            elif self.is_candidate(path):
                yield path
            else:
                self.ignored += 1
        if self.recursive:
            for entry in subdirs:
                yield from self._walk(Path(entry.path), seen_dirs, depth + 1)


def normalise_roots(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Absolute paths (symlinks kept, so reported paths are the user's), duplicates dropped, order kept."""
    out: list[Path] = []
    for p in paths:
        ap = Path(os.path.abspath(os.fspath(p)))
        if ap not in out:
            out.append(ap)
    return out


def count_files(roots: list[Path], recursive: bool = True, should_stop=lambda: False) -> int:
    """Number of regular files under the roots (no sniffing): a cheap total for progress and ETA."""
    total = 0
    seen: set[tuple[int, int]] = set()
    stack = [r for r in reversed(roots)]
    while stack:
        if should_stop():
            break
        p = stack.pop()
        try:
            if not p.is_dir():
                total += 1 if p.is_file() else 0
                continue
            st = p.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(p) as it:
                for entry in it:
                    try:
                        if entry.is_dir():
                            if recursive:
                                stack.append(Path(entry.path))
                        else:
                            total += 1  # regular or not: every file gets a row or is counted as ignored
                    except OSError:
                        pass
        except OSError:
            continue
    return total
