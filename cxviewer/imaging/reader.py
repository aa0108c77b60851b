"""``read_radiograph``: the one entry point for every input file."""

from __future__ import annotations

import os
from pathlib import Path

from cxviewer.imaging.errors import UnreadableImageError
from cxviewer.imaging.radiograph import Radiograph
from cxviewer.imaging.sniff import DICOM, HEAD_BYTES, sniff


def read_radiograph(path: str | os.PathLike[str]) -> Radiograph:
    """Read a DICOM file (found by content) or a PNG/JPEG/WebP/TIFF image.

    Raises UnreadableImageError with a reason meant for the reader for anything it cannot show.
    Never writes anything.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
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
