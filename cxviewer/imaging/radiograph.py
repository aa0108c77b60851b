"""The radiograph object every reader returns, and the VOI presets it carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class VoiPreset:
    """One VOI transform the header offers (PS3.3 C.11.2).

    A window preset has ``lut`` None and uses ``center``/``width`` with ``function`` (LINEAR,
    LINEAR_EXACT or SIGMOID). A VOI LUT preset has ``function`` "LUT", ``lut`` (the table, output
    range 0..2**lut_bits-1) and ``lut_first_mapped``; its ``center``/``width`` only describe the
    input range the table covers, as a starting point for interactive windowing.
    """

    name: str
    center: float
    width: float
    function: str = "LINEAR"
    lut: np.ndarray | None = None
    lut_first_mapped: int = 0
    explanation: str = ""
    lut_bits: int = 16


@dataclass(eq=False)
class Radiograph:
    """One image: pixels in modality units plus what the header says about them."""

    path: Path
    pixels: np.ndarray
    photometric: str = "MONOCHROME2"
    presentation_lut_shape: str = ""  # (2050,0020) IDENTITY or INVERSE; "" when absent
    # modality values (low, high) that are Pixel Padding (PS3.3 C.7.5.1.1.2): not part of the image, so left out
    # of its value range (the full-range window); None when the header names none
    padding: tuple[float, float] | None = None
    voi_presets: list[VoiPreset] = field(default_factory=list)
    voi_function: str = "LINEAR"
    pixel_spacing: tuple[float, float] | None = None
    source_format: str = "DICOM"
    was_color: bool = False
    chroma: float | None = None  # how coloured the source was (imaging.colour.chroma), measured when was_color
    header: Any = None  # pydicom Dataset without pixel data, or None for plain images
    frame_count: int = 1  # frames in the source; only the first is read
    transfer_syntax: str = ""  # name of the DICOM transfer syntax ("" for plain images)
    patient_name: str = ""
    patient_id: str = ""
    patient_issuer: str = ""  # Issuer of Patient ID (0010,0021): the ID is unique only within it
    patient_birth_date: str = ""
    patient_sex: str = ""
    patient_age: str = ""  # DICOM AS, e.g. "045Y"
    accession_number: str = ""
    study_uid: str = ""
    series_uid: str = ""
    sop_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    series_description: str = ""
    series_number: int | None = None
    instance_number: int | None = None
    modality: str = ""
    body_part: str = ""
    view_position: str = ""
    referring_physician: str = ""  # DICOM PN (0008,0090), for the report
    acquisition_date: str = ""  # DICOM DA/TM of the acquisition (else of the image's creation); "" if unknown
    acquisition_time: str = ""
    _value_range: tuple[float, float] | None = field(default=None, init=False, repr=False)

    @property
    def shown_reversed(self) -> bool:
        """True when higher values are shown darker (PS3.3 C.11.6): MONOCHROME1, or MONOCHROME2 with the Presentation
        LUT Shape INVERSE. MONOCHROME1 with IDENTITY, a contradiction found in real files, stays reversed as its
        photometric interpretation says (as MONOCHROME1 with INVERSE, the conforming DX pairing, is)."""
        return self.photometric == "MONOCHROME1" or (self.photometric == "MONOCHROME2"
                                                     and self.presentation_lut_shape == "INVERSE")

    def value_range(self) -> tuple[float, float]:
        """(min, max) of the modality values that are not padding, computed once."""
        if self._value_range is None:
            from cxviewer.imaging.lut import min_max

            self._value_range = min_max(self.pixels, exclude=self.padding)
        return self._value_range
