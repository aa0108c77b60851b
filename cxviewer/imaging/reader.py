"""``read_radiograph``: the one entry point for every input file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from cxviewer.imaging.errors import UnreadableImageError
from cxviewer.imaging.radiograph import Radiograph
from cxviewer.imaging.sniff import DICOM, HEAD_BYTES, sniff


def read_radiograph(path: str | os.PathLike[str]) -> Radiograph:
    """Read a DICOM file (found by content) or a PNG/JPEG/WebP/TIFF image.

    Raises UnreadableImageError with a reason meant for the reader for anything it cannot show,
    and nothing else; what it returns is one 2-D frame of finite values. Never writes anything.
    """
    path = Path(path)
    try:
        return _checked(_read(path))
    except UnreadableImageError:
        raise
    except MemoryError:
        raise UnreadableImageError("The image needs more memory than this computer can give it.", path) from None
    except RecursionError:
        raise UnreadableImageError("The file's structure is nested too deeply to be read.", path) from None
    except Exception as exc:  # noqa: BLE001 - the contract: a damaged file is a reason, never a crash
        detail = " ".join(str(exc).split())[:300]
        raise UnreadableImageError(
            f"The file is damaged: it holds values CXViewer cannot interpret ({type(exc).__name__}: {detail}).", path
        ) from exc


def _checked(rad: Radiograph) -> Radiograph:
    """The reader's promise to the display: one 2-D frame, at least 1 x 1, of finite values."""
    pixels = rad.pixels
    if pixels.ndim != 2 or min(pixels.shape) < 1:
        raise UnreadableImageError(f"The decoded image has the shape {pixels.shape}, not one 2-D frame.", rad.path)
    if pixels.dtype.kind not in "iuf" and pixels.dtype != np.bool_:
        raise UnreadableImageError(f"The decoded image holds {pixels.dtype} values, not numbers.", rad.path)
    if pixels.dtype.kind == "f":
        lo, hi = rad.value_range()
        if not np.isfinite(pixels).all() or not np.isfinite(hi - lo):
            raise UnreadableImageError(
                "The image values are not finite numbers after the modality transform "
                "(Rescale Slope and Intercept, or the stored values, are out of range).",
                rad.path,
            )
    return rad


def not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file (a named pipe, socket, device, dangling link...), or None.

    Looks with stat only: a named pipe opened for reading would wait for a writer forever.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "The file does not exist." if not os.path.islink(path) else "This is a symbolic link to a file that does not exist."
    except OSError as exc:
        return f"The file cannot be opened ({exc.strerror or exc})."
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "This is a folder, not an image file."
    kinds = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    return f"This is {kind}, not a regular file; it is not read."


def _read(path: Path) -> Radiograph:
    problem = not_a_regular_file(path)
    if problem:
        raise UnreadableImageError(problem, path)
    try:
        # O_NONBLOCK: should the path have become a named pipe since the check, do not wait on it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise UnreadableImageError("This is not a regular file; it is not read.", path)
            head = f.read(HEAD_BYTES)
    except IsADirectoryError:
        raise UnreadableImageError("This is a folder, not an image file.", path) from None
    except FileNotFoundError:
        raise UnreadableImageError("The file does not exist.", path) from None
    except OSError as exc:
        raise UnreadableImageError(f"The file cannot be opened ({exc.strerror or exc}).", path) from None
    if not head:
        raise UnreadableImageError("The file is empty (0 bytes).", path)
    kind = sniff(head)
    if kind == DICOM:
        from cxviewer.imaging.dicom_reader import read_dicom

        return read_dicom(path)
    if kind is not None:
        from cxviewer.imaging.image_reader import read_image

        return read_image(path, kind)
    raise UnreadableImageError("This is not a DICOM file or a PNG, JPEG, WebP or TIFF image.", path)
