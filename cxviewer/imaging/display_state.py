"""What the reader sees of one radiograph, without Qt: the VOI window (with its VOI LUT Function), the
reader's invert, and the rotation and flips.

The one place for three rules that every display of a radiograph follows (viewer, thumbnails, PDF
export, ``cxviewer report``/``export``):

* the default window: the first VOI the header offers (window or VOI LUT), else the full range of
  modality values with a LINEAR window (``default_window``);
* the rendering: PS3.3 C.11 through ``apply_voi`` (MONOCHROME1 inverted after VOI), then the
  reader's invert, then, for exports, the rotation/flips (``DisplayState.render``);
* the caption that says which window a rendered image shows (``DisplayState.caption``).

A ``DisplayState`` is immutable: every change (a drag, a preset, a turn) gives a new one, so a copy
handed to an export cannot change under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from cxviewer.imaging import orientation as vo
from cxviewer.imaging.display import FUNCTIONS, apply_voi, full_range_window
from cxviewer.imaging.radiograph import Radiograph, VoiPreset

FULL_RANGE = "Full range"


@dataclass(frozen=True)
class Window:
    """A VOI window as applied: ``voi`` goes to ``apply_voi`` (a header VoiPreset, or (centre, width)
    used with ``function``); ``center``/``width`` are shown and are where a window/level drag starts."""

    voi: VoiPreset | tuple[float, float]
    center: float
    width: float
    name: str
    function: str = "LINEAR"

    @classmethod
    def custom(cls, center: float, width: float, name: str = "Custom", function: str = "LINEAR") -> Window:
        """A (centre, width) window; widths below 1e-6 are raised to 1e-6 (a zero width has no display)."""
        center, width = float(center), max(float(width), 1e-6)
        return cls((center, width), center, width, name, (function or "LINEAR").upper())

    @classmethod
    def from_header(cls, preset: VoiPreset, voi_function: str = "LINEAR") -> Window:
        """A header window or VOI LUT. A VOI LUT item's centre/width describe the input range it covers
        (a start for dragging); dragging away from it gives a window with the header's VOI LUT Function."""
        function = preset.function if preset.lut is None else voi_function
        return cls(preset, float(preset.center), float(preset.width), preset.name or "Header window",
                   _known(function))

    def caption(self) -> str:
        """"Lung, centre -600 / width 1500"; a header VOI LUT by its name alone (its centre and width
        only describe the input range the table covers)."""
        if isinstance(self.voi, VoiPreset) and self.voi.lut is not None:
            return self.name
        return f"{self.name}, centre {self.center:g} / width {self.width:g}"


def _known(function: str | None) -> str:
    function = (function or "LINEAR").upper()
    return function if function in FUNCTIONS else "LINEAR"


def default_window(rad: Radiograph) -> Window:
    """The default window: the first VOI the header offers, else the full range (LINEAR)."""
    presets = list(rad.voi_presets or [])
    if presets:
        return Window.from_header(presets[0], rad.voi_function)
    center, width = full_range_window(rad)
    return Window((center, width), float(center), float(width), FULL_RANGE, "LINEAR")


def _identity() -> np.ndarray:
    return vo.IDENTITY.copy()


@dataclass(frozen=True, eq=False)
class DisplayState:
    """Window, invert and orientation (a 2x2 signed permutation matrix, see ``orientation.py``)."""

    window: Window
    inverted: bool = False
    orientation: np.ndarray = field(default_factory=_identity)

    @classmethod
    def default(cls, rad: Radiograph) -> DisplayState:
        """The default window, not inverted, not turned."""
        return cls(default_window(rad))

    # ------------------------------------------------------------ changes
    def with_window(self, window: Window) -> DisplayState:
        return replace(self, window=window)

    def with_inverted(self, on: bool) -> DisplayState:
        return replace(self, inverted=bool(on))

    def rotated(self, clockwise: bool = True) -> DisplayState:
        return self._then(vo.ROTATE_CW if clockwise else vo.ROTATE_CCW)

    def flipped_horizontally(self) -> DisplayState:
        return self._then(vo.FLIP_H)

    def flipped_vertically(self) -> DisplayState:
        return self._then(vo.FLIP_V)

    def _then(self, op: np.ndarray) -> DisplayState:
        # flips and turns act on what is on screen, whatever came before: the new matrix is op @ current
        return replace(self, orientation=op @ self.orientation)

    # ------------------------------------------------------------ output
    def render(self, rad: Radiograph, pixels: np.ndarray | None = None, oriented: bool = False) -> np.ndarray:
        """uint8 display of ``rad`` (or of ``pixels``, e.g. a block-averaged copy of its modality values).

        C.11 through ``apply_voi`` (MONOCHROME1, or a Presentation LUT Shape INVERSE, inverted after VOI), then the reader's invert
        (255 - value); ``oriented`` turns and flips the result as the screen shows it (for exports).
        """
        source = rad.pixels if pixels is None else pixels
        u8 = apply_voi(source, self.window.voi, monochrome1=rad.shown_reversed,
                       function=self.window.function)
        if self.inverted:
            np.subtract(255, u8, out=u8)
        return vo.orient_array(u8, self.orientation) if oriented else u8

    def orientation_text(self) -> str:
        """Short form for the corner annotation: "Rot 90°, Flipped" ("" when upright)."""
        deg, mirrored = vo.rotation_degrees(self.orientation)
        return ", ".join(([f"Rot {deg}\N{DEGREE SIGN}"] if deg else []) + (["Flipped"] if mirrored else []))

    def caption(self) -> str:
        """What a rendered image shows, e.g. "Lung, centre -600 / width 1500, inverted, rotated 90° clockwise"."""
        deg, mirrored = vo.rotation_degrees(self.orientation)
        return (self.window.caption() + (", inverted" if self.inverted else "") + (", mirrored" if mirrored else "")
                + (f", rotated {deg}\N{DEGREE SIGN} clockwise" if deg else ""))


def render_display(rad: Radiograph, window: VoiPreset | tuple[float, float] | None = None,
                   invert: bool = False) -> np.ndarray:
    """2-D uint8 display of ``rad`` per PS3.3 C.11, upright.

    ``window`` None: the default window (``default_window``). A header VoiPreset is used as it is; a
    (center, width) pair uses the header's VOI LUT Function. ``invert`` is the reader's inversion.
    """
    if window is None:
        chosen = default_window(rad)
    elif isinstance(window, VoiPreset):
        chosen = Window.from_header(window, rad.voi_function)
    else:  # as given: a width of 0 or NaN is refused by apply_voi, not raised to 1e-6
        center, width = (float(v) for v in window)
        chosen = Window((center, width), center, width, "Custom", rad.voi_function)
    return DisplayState(chosen, inverted=invert).render(rad)
