"""The one exception for input CXViewer cannot show."""

from __future__ import annotations

from pathlib import Path


class UnreadableImageError(Exception):
    """A file that cannot be shown, with a reason a radiologist understands.

    ``str(error)`` is "<file name>: <reason>"; ``error.reason`` is the reason alone and
    ``error.path`` the file (None when unknown).
    """

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = reason
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path.name}: {reason}" if self.path is not None else reason)


# kinds of DICOM objects that hold no image, by words of their SOP class name (PS3.6), first match wins
NON_IMAGE_KINDS = (
    ("Presentation State", "presentation state"),
    ("Key Object Selection", "key object selection"),
    (" SR ", "report"),
    ("Structured Report", "report"),
    ("Encapsulated", "document"),
    ("Directory", "directory"),
)


def non_image_kind(sop_class_name: str) -> str:
    """What a non-image SOP class is, for a reader: "presentation state", "report", "document"..."""
    padded = f" {sop_class_name} "
    return next((kind for words, kind in NON_IMAGE_KINDS if words in padded), "other object")


class NonImageObjectError(UnreadableImageError):
    """A well-formed DICOM object of a class that holds no image (a presentation state, a structured
    report, an encapsulated PDF, a key object selection, a DICOMDIR...): not a damaged film.
    ``sop_class_name`` is the standard's name of its class, ``kind`` what it is in a word or two."""

    def __init__(self, reason: str, path: str | Path | None, sop_class_name: str) -> None:
        super().__init__(reason, path)
        self.sop_class_name = sop_class_name
        self.kind = non_image_kind(sop_class_name)
