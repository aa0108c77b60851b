"""What the study browser keeps about every opened file, read or not (Qt-free).

An entry holds the grouping metadata and a small thumbnail, never the full pixels: those live in the
bounded radiograph cache and are read again from disk when needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxviewer.ui.viewer.downsample import block_mean

THUMBNAIL_SIZE = 96


@dataclass
class ImageEntry:
    path: Path
    error: str | None = None
    patient_name: str = ""
    patient_id: str = ""
    patient_issuer: str = ""
    study_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    series_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    modality: str = ""
    body_part: str = ""  # BodyPartExamined, as the header says (shown before the film is opened)
    instance_number: int | None = None
    sop_uid: str = ""
    source_format: str = ""
    rows: int = 0
    columns: int = 0
    thumbnail: np.ndarray | None = None  # uint8, longest side THUMBNAIL_SIZE
    non_image: str = ""  # a DICOM object that is no image: "presentation state", "report", "document"...

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def from_error(cls, path: Path, message: str) -> ImageEntry:
        return cls(path=Path(path), error=message)

    @classmethod
    def from_non_image(cls, path: Path, kind: str, sop_class_name: str) -> ImageEntry:
        """A presentation state, report, document... found among the films: listed, not an error."""
        text = f"{sop_class_name}: a {kind}, not an image"
        if kind == "presentation state":
            text += (". With its film on screen, Annotate \N{RIGHTWARDS ARROW} Apply presentation state "
                     "found beside the film applies it")
        return cls(path=Path(path), error=text, non_image=kind)

    @classmethod
    def from_radiograph(cls, rad, display_u8: np.ndarray | None = None) -> ImageEntry:
        rows, cols = rad.pixels.shape
        return cls(
            path=Path(rad.path), patient_name=rad.patient_name, patient_id=rad.patient_id,
            patient_issuer=rad.patient_issuer,
            study_uid=rad.study_uid, study_date=rad.study_date, study_time=rad.study_time,
            study_description=rad.study_description, series_uid=rad.series_uid,
            series_number=rad.series_number, series_description=rad.series_description,
            modality=rad.modality, body_part=rad.body_part, instance_number=rad.instance_number, sop_uid=rad.sop_uid,
            source_format=rad.source_format, rows=rows, columns=cols,
            thumbnail=make_thumbnail(display_u8) if display_u8 is not None else None,
        )


def make_thumbnail(u8: np.ndarray, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    import cv2  # not at module level: the window shows before OpenCV is loaded

    h, w = u8.shape[:2]
    scale = size / max(h, w)
    if scale >= 1:
        return np.ascontiguousarray(u8)
    dsize = (max(1, round(w * scale)), max(1, round(h * scale)))
    k = int(1 / scale)
    if k >= 2:  # exact k x k means first: INTER_AREA at a non-integer ratio is slow on big frames
        u8 = block_mean(u8, k)
    return cv2.resize(u8, dsize, interpolation=cv2.INTER_AREA)


def thumbnail_display(rad) -> np.ndarray:
    """The default display of ``rad`` (``DisplayState.default``: first header VOI, else the full range
    of the full-resolution pixels) computed on a block-averaged copy a few times the thumbnail size: a
    thumbnail does not need a VOI pass over every full-resolution pixel, and the loader makes one for
    every file it opens."""
    from cxviewer.imaging import DisplayState

    k = max(1, max(rad.pixels.shape) // (2 * THUMBNAIL_SIZE))
    return DisplayState.default(rad).render(rad, block_mean(rad.pixels, k))
