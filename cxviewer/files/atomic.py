"""Atomic file writes, the one implementation every writer uses.

A unique temp file is made in the target's folder (``.<name>.<random><suffix>``, so concurrent
writers never share one), written, flushed and fsynced, then renamed over the target with
``os.replace``; the folder is fsynced so the rename itself survives a power cut. A crash (or a full
disk) at any point leaves either the old file or the new one, never half a file, and a failure
removes the temp file. Leftover temp files start with a dot and end in ``.tmp`` so readers can skip them.

Permissions: ``private=True`` (the default, for anything holding patient data or passwords) gives
owner-only 0600; ``private=False`` keeps the mode of the file being replaced, or for a new file the
mode the umask gives. Writers ask ``cxviewer.files.privacy.holds_patient_data`` which one to use.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from cxviewer.files.folders import make_dirs_private

TEMP_SUFFIX = ".tmp"
PRIVATE_MODE = 0o600


def _temp_stem(name: str) -> str:
    """The target's name as printable ASCII for its temp file's name: a writer that takes the temp's name as text
    (Qt's PDF writer) would otherwise turn a name that is not UTF-8 into another name and write another file."""
    return "".join(c if c.isascii() and c.isprintable() else "_" for c in name)


class AtomicFile:
    """A unique temp path beside ``path``; ``commit()`` makes it ``path``, ``discard()`` removes it.

    For writers that need a file name (a PDF writer, Keras' ``save_weights``). As a context manager it
    commits when the block ends normally and discards on any exception::

        with AtomicFile(out, private=False) as tmp:
            writer.write(tmp)
    """

    def __init__(self, path: str | Path, private: bool = True, suffix: str = TEMP_SUFFIX):
        self.path = Path(path)
        make_dirs_private(self.path.parent)  # a folder made here is 0700 (what goes in it holds patient data)
        fd, name = tempfile.mkstemp(prefix=f".{_temp_stem(self.path.name)}.", suffix=suffix, dir=self.path.parent)
        os.close(fd)
        self.temp = Path(name)  # mkstemp makes it 0600: private while it is written
        self._mode = PRIVATE_MODE if private else _mode_for(self.path)
        self._done = False

    def commit(self) -> Path:
        """fsync the temp file, give it its mode, rename it over the target, fsync the folder."""
        if self._done:
            raise RuntimeError(f"{self.path}: already committed or discarded")
        try:
            _fsync_file(self.temp)
            try:
                os.chmod(self.temp, self._mode)
            except OSError:
                pass  # file systems without POSIX modes (FAT, some network shares)
            os.replace(self.temp, self.path)
        except BaseException:
            self.discard()
            raise
        self._done = True
        _fsync_dir(self.path.parent)
        return self.path

    def discard(self) -> None:
        self._done = True
        self.temp.unlink(missing_ok=True)

    def __enter__(self) -> Path:
        return self.temp

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def atomic_write_bytes(path: str | Path, data: bytes, private: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (see the module text for ``private``)."""
    return atomic_write_with(path, lambda temp: temp.write_bytes(data), private)


def atomic_write_text(path: str | Path, text: str, private: bool = True) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), private)


def atomic_write_with(path: str | Path, write: Callable[[Path], object], private: bool = True,
                      suffix: str = TEMP_SUFFIX) -> Path:
    """Call ``write(temp_path)``, then make the temp file ``path``; on any error remove it and re-raise."""
    target = AtomicFile(path, private, suffix)
    try:
        write(target.temp)
    except BaseException:
        target.discard()
        raise
    return target.commit()


def _mode_for(path: Path) -> int:
    """The replaced file's permission bits, else what the umask gives a new file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask; read from /proc where it can be (os.umask must set it to read it, racing other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o077)
    os.umask(umask)
    return umask


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable where the OS allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
