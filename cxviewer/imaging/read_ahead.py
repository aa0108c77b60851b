"""A film named at launch, read before the window exists.

``cxviewer FILE`` (or ``--sample``) shows FILE as soon as the window is up, and decoding it (a JPEG 2000
CR: about half a second of one core, after the decoder process has started and imported its codecs)
is the longest part of the wait. ``ReadAhead`` starts that read on a thread at once, before Qt and
pyqtgraph are imported: the decoder process is started first and
the file is sent to it by name: it reads the file, makes the reader's checks and decodes the first frame
while this process imports its own reader and the main thread builds the window; the read here then
parses the header and collects those pixels (``DecodePool.decode_ahead``). The decode runs in the
supervised decoder process as always, so a decoder that crashes on the file costs that process only, and
the read fails with the same message as any other.

The loader reads through :meth:`ReadAhead.read`: for the file read ahead it waits for that read (if not
over yet) and hands over its result, or raises its error, once; any other file, or the same file asked
for again or changed on disk since, is read as usual. Nothing here imports pydicom on the caller's thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _key(path: str | os.PathLike) -> str:
    return os.path.abspath(os.fspath(path))  # as the loader's discovery names it (symlinks kept)


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def first_file(paths: Iterable[str | os.PathLike]) -> Path | None:
    """The first of ``paths`` that is a regular file (the film the viewer shows first), or None."""
    for p in paths:
        if os.path.isfile(p):
            return Path(p)
    return None


def launch_read_ahead(paths: Iterable[str | os.PathLike], sample: bool = False) -> ReadAhead | None:
    """The read ahead of the film the viewer shows first when started with ``paths`` (or the bundled sample, with
    ``sample``), started now; None when no file is named."""
    if sample:
        from cxviewer import paths as bundled

        paths = [bundled.sample_study()]
    first = first_file(paths)
    return ReadAhead(first) if first is not None else None


def _read_radiograph(path: Path) -> Any:
    from cxviewer.imaging.reader import read_radiograph

    return read_radiograph(path)


def _send_ahead(path: Path) -> Callable[[], None]:
    """Start a decoder process and send it ``path`` by name when it is a DICOM file (``DecodePool.decode_ahead``);
    returns what releases that decode if the read does not collect it."""
    from cxviewer.imaging.decode_pool import WorkerUnavailable, pool
    from cxviewer.imaging.sniff import DICOM, HEAD_BYTES, sniff

    try:
        with open(path, "rb") as fh:
            dicom = sniff(fh.read(HEAD_BYTES)) == DICOM
    except OSError:
        dicom = False
    try:
        if not dicom:  # a PNG or JPEG is read here, with OpenCV: the decoder process is only started for later
            pool().warm_up()
            return lambda: None
        pool().decode_ahead(path)
    except WorkerUnavailable:  # the read itself decodes here then, and says so in the log
        log.info("no decoder process could be started ahead of the first film")
    return lambda: pool().drop_ahead(path)


class ReadAhead:
    """Reads ``path`` on a background thread from now on; the loader collects it with :meth:`read`."""

    def __init__(self, path: str | os.PathLike, read: Callable[[Path], Any] = _read_radiograph,
                 send_ahead: Callable[[Path], Callable[[], None]] = _send_ahead) -> None:
        self.path = Path(path)
        self._key = _key(path)
        self._stamp = _stamp(self._key)
        self._read, self._send_ahead = read, send_ahead
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._taken = False
        self._stale = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cxviewer-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        release = None
        try:
            # the decoder process reads and decodes the file while this thread imports pydicom and reads the header
            release = self._send_ahead(self.path)
            self._result = self._read(self.path)
        except BaseException as exc:  # noqa: BLE001 - handed to the loader, which reports it like any read error
            self._error = exc
        finally:
            with self._lock:
                self._done.set()
                if self._stale:
                    self._result = self._error = None
            if release is not None:
                release()  # (nothing left to release when the read collected the pixels)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def _claim(self, path: str | os.PathLike) -> bool:
        """True once for the file read ahead, when it has not changed on disk since the read began."""
        if _key(path) != self._key:
            return False
        with self._lock:
            if self._taken:
                return False
            self._taken = True
        fresh = self._stamp is not None and _stamp(self._key) == self._stamp
        if not fresh:
            self._drop_when_done()
        return fresh

    def _drop_when_done(self) -> None:
        """A result nobody will take (the file changed on disk) is let go, now or when the read finishes."""
        with self._lock:
            self._stale = True
            if self._done.is_set():
                self._result = self._error = None

    def read(self, path: str | os.PathLike, read: Callable[[Path], Any] | None = None) -> Any:
        """What reading ``path`` gives: the read-ahead result for its file (waited for, handed over once), else
        ``read(path)`` (default: the reader this was made with)."""
        read = read or self._read
        if not self._claim(path):
            return read(Path(path))
        self._done.wait()
        result, error = self._result, self._error
        self._result = self._error = None  # the loader's cache holds it from now on
        if error is not None:
            raise error
        return result
