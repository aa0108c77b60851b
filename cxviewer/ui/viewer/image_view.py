"""The central image view: one radiograph on a pyqtgraph ViewBox with the reading tools.

Display = ``cxviewer.imaging.DisplayState`` (window, VOI function, invert, rotation and flips of
the image on screen; its ``render`` is PS3.3 C.11 with MONOCHROME1 inverted after VOI, then the
user's own invert) on the modality pixels. When zoomed out by 2x or
more the view renders an area-averaged copy of the modality pixels (one pyramid level per power of
two, built once per image), so window/level drags stay smooth on 9-megapixel frames; at 1:1 and
closer the full-resolution pixels are shown. Values under the cursor always come from the full
resolution pixels.

Geometry: the image sits in ``overlay_parent()`` (an item whose coordinates are image pixels,
x = column, y = row) and rotation/flips are that item's transform, so anything added as its child
(annotations, the AI heat map) follows zoom, pan, rotation and flips exactly.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cxviewer.imaging import DisplayState, Window
from cxviewer.imaging import orientation as vo
from cxviewer.imaging.spacing import NO_SPACING, MeasurementScale, scale_for_radiograph
from cxviewer.ui.viewer.corner_text import CornerAnnotations, corner_texts
from cxviewer.ui.viewer.downsample import block_mean
from cxviewer.ui.viewer.presets import BuiltinPreset, builtin_window
from cxviewer.ui.viewer.view_box import ReadingViewBox

# A window/level drag across this many screen pixels changes width (or level) by the full range of
# the image's modality values.
WL_DRAG_FULL_RANGE_PX = 1000.0
ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.01, 32.0
MIN_LEVEL_SIZE = 256  # never downsample an image below this many pixels on its short side


class ImageView(QWidget):
    windowChanged = Signal(float, float)  # centre, width (modality units)
    zoomChanged = Signal(float)  # screen pixels per image pixel
    cursorMoved = Signal(object)  # (column, row, modality value) or None outside the image
    imageChanged = Signal(object)  # the Radiograph now shown, or None
    displayChanged = Signal()  # window, invert, orientation or zoom changed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("imageView")
        self.graphics = pg.GraphicsView(background="k")
        self.view_box = ReadingViewBox()
        self.graphics.setCentralItem(self.view_box)
        self._group = pg.ItemGroup()
        self.view_box.addItem(self._group)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setParentItem(self._group)
        self.annotations = CornerAnnotations(self.graphics)
        self.message = QLabel(self.graphics)  # centred text when there is no image to show
        self.message.setObjectName("viewMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d8d8d8; font-size: 14px; background: transparent;")
        self.message.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.show_message("Drop radiographs or folders here, or use File \N{RIGHTWARDS ARROW} Open.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

        self.rad: Any = None
        # window, invert, rotation/flips of the image on screen (None when there is none); the report
        # pane renders its PDF from the same object
        self.display: DisplayState | None = None
        self._calibration: MeasurementScale | None = None  # the reader's, for this film
        self.corner_extra: dict[str, str] = {}  # a first line per corner, set by the layouts
        self.drag_tool = None  # callable(phase, p0, p1) in image coordinates, set by an annotation tool
        self.position_text = ""
        self._fit_mode = True
        self._levels: dict[int, np.ndarray] = {}
        self._level = 1
        self._wl_step = 1.0
        self._annotations_on = True

        vb = self.view_box
        vb.sigRangeChangedManually.connect(self._on_manual_range)
        vb.sigRangeChanged.connect(self._on_range_changed)
        vb.sigResized.connect(self._on_resized)
        vb.windowDragged.connect(self._on_window_drag)
        vb.measureDragged.connect(self._on_measure_drag)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # --------------------------------------------------------------- message
    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setGeometry(self.graphics.rect().adjusted(40, 40, -40, -40))
        self.message.show()

    def hide_message(self) -> None:
        self.message.hide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.message.setGeometry(self.graphics.rect().adjusted(40, 40, -40, -40))

    # ----------------------------------------------------------------- image
    def set_radiograph(self, rad: Any, keep_view: bool = False) -> None:
        """Show ``rad`` with its default window (first header VOI, else the full range), fitted.

        ``keep_view`` keeps orientation, invert and zoom (used when re-reading the same image).
        """
        self.rad = rad
        self._calibration = None
        if rad is not None:
            self.hide_message()
        self._levels = {1: rad.pixels} if rad is not None else {}
        if rad is None:
            self.display = None
            self.image_item.clear()
            self.annotations.set_texts({})
            self.imageChanged.emit(None)
            return
        lo, hi = rad.value_range()
        value_range = hi - lo
        self._wl_step = max(value_range, 1e-6) / WL_DRAG_FULL_RANGE_PX
        previous, self.display = self.display, DisplayState.default(rad)
        if keep_view and previous is not None:
            self.display = replace(self.display, inverted=previous.inverted, orientation=previous.orientation)
        else:
            self._fit_mode = True
        self._apply_orientation()
        self._level = self._wanted_level()
        self._refresh_image()
        if self._fit_mode:
            self.fit()
        self.imageChanged.emit(rad)
        self._emit_window()

    def image_size(self) -> tuple[int, int]:
        """(width, height) in image pixels; (0, 0) when empty."""
        if self.rad is None:
            return 0, 0
        h, w = self.rad.pixels.shape
        return w, h

    def overlay_parent(self) -> pg.ItemGroup:
        """Parent for items drawn in image pixel coordinates (they follow every view change)."""
        return self._group

    def displayed_image(self) -> np.ndarray | None:
        """The uint8 array on screen now (at the current pyramid level)."""
        return self.image_item.image

    @property
    def display_level(self) -> int:
        """Downsampling factor of what is on screen (1 = full resolution)."""
        return self._level

    # ---------------------------------------------------------------- window
    @property
    def window(self) -> Window | None:
        """The window applied now (None without an image)."""
        return self.display.window if self.display is not None else None

    @property
    def inverted(self) -> bool:
        return self.display is not None and self.display.inverted

    @property
    def orientation(self) -> np.ndarray:
        """2x2 rotation/flip matrix of the image on screen (``cxviewer.imaging.orientation``)."""
        return self.display.orientation if self.display is not None else vo.IDENTITY.copy()

    def _set_window(self, window: Window) -> None:
        if self.display is None:
            return
        self.display = self.display.with_window(window)
        self._refresh_image()
        self._emit_window()

    def set_window(self, center: float, width: float, name: str = "Custom",
                   function: str | None = None) -> None:
        """Apply the window (centre, width); the VOI function stays the current one unless given."""
        if function is None:
            function = self.window.function if self.window is not None else "LINEAR"
        self._set_window(Window.custom(center, width, name, function))

    def apply_header_preset(self, index: int) -> None:
        self._set_window(Window.from_header(list(self.rad.voi_presets)[index], self.rad.voi_function))

    def apply_builtin_preset(self, preset: BuiltinPreset) -> None:
        c, w = builtin_window(preset, self.rad.pixels, self.rad.shown_reversed, self.rad.padding)
        self._set_window(Window.custom(c, w, preset.name, "LINEAR"))

    def reset_window(self) -> None:
        if self.rad is not None:
            self._set_window(DisplayState.default(self.rad).window)

    def _display_reversed(self) -> bool:
        """True when higher modality values look darker on screen."""
        return (self.rad is not None and self.rad.shown_reversed) != self.inverted

    def _on_window_drag(self, dx: float, dy: float) -> None:
        """Right/middle drag: right widens the window, down darkens the picture (moves the level
        toward brighter values in display terms, whatever the photometric interpretation)."""
        if self.rad is None or self.window is None:
            return
        sign = -1.0 if self._display_reversed() else 1.0
        width = max(self.window.width + dx * self._wl_step, self._wl_step)
        center = self.window.center + sign * dy * self._wl_step
        self.set_window(center, width, "Custom")

    @property
    def wl_step(self) -> float:
        """Modality units per screen pixel of a window/level drag."""
        return self._wl_step

    def set_inverted(self, on: bool) -> None:
        if self.display is None:
            return
        self.display = self.display.with_inverted(on)
        self._refresh_image()
        self._update_annotations()  # the corner says "Inverted"
        self.displayChanged.emit()

    def toggle_invert(self) -> None:
        self.set_inverted(not self.inverted)

    def _emit_window(self) -> None:
        self._update_annotations()
        if self.window is not None:
            self.windowChanged.emit(self.window.center, self.window.width)
        self.displayChanged.emit()

    # -------------------------------------------------------------- rendering
    def _level_pixels(self, k: int) -> np.ndarray:
        if k not in self._levels:
            self._levels[k] = block_mean(self.rad.pixels, k)
        return self._levels[k]

    def _wanted_level(self) -> int:
        if self.rad is None:
            return 1
        z = self.zoom()
        if not z or z >= 0.5:
            return 1
        k = 2 ** int(math.floor(math.log2(1.0 / z)))
        short = min(self.rad.pixels.shape)
        while k > 1 and short / k < MIN_LEVEL_SIZE:
            k //= 2
        return k

    def _refresh_image(self) -> None:
        if self.rad is None or self.display is None:
            return
        u8 = self.display.render(self.rad, self._level_pixels(self._level))
        w, h = self.image_size()
        # levels=None: the uint8 display goes to Qt as it is (a Grayscale8 QImage, no copy). With
        # levels (0, 255) pyqtgraph builds an identity colour table in Python and Qt converts the
        # indexed image on every paint: 3x slower window/level repaints at the same pixels.
        self.image_item.setImage(u8, autoLevels=False, levels=None, rect=QRectF(0, 0, w, h))

    # -------------------------------------------------------------- geometry
    def _apply_orientation(self) -> None:
        w, h = self.image_size()
        (a, b), (c, d) = self.orientation.tolist()
        cx, cy = w / 2.0, h / 2.0
        # x' = a x + b y + dx ; y' = c x + d y + dy, with the image centre mapped to the origin
        t = QTransform(a, c, b, d, -(a * cx + b * cy), -(c * cx + d * cy))
        self._group.setTransform(t)
        if self._fit_mode:
            self.fit()
        self._update_annotations()
        self.displayChanged.emit()

    def rotate(self, clockwise: bool = True) -> None:
        if self.display is not None:
            self.display = self.display.rotated(clockwise)
            self._apply_orientation()

    def flip_horizontal(self) -> None:
        if self.display is not None:
            self.display = self.display.flipped_horizontally()
            self._apply_orientation()

    def flip_vertical(self) -> None:
        if self.display is not None:
            self.display = self.display.flipped_vertically()
            self._apply_orientation()

    def image_rect_in_view(self) -> QRectF:
        """Bounding rectangle of the (rotated/flipped) image in view coordinates."""
        w, h = self.image_size()
        return self._group.mapRectToParent(QRectF(0, 0, w, h))

    def image_to_widget(self, x: float, y: float) -> QPointF:
        """Image point (column, row) -> position in the graphics widget's pixels."""
        scene = self._group.mapToScene(QPointF(x, y))
        return QPointF(self.graphics.mapFromScene(scene))

    def scene_to_image(self, scene_pos: QPointF) -> QPointF:
        return self._group.mapFromScene(scene_pos)

    def fit(self) -> None:
        """Zoom so the whole image fills the view."""
        if self.rad is None:
            return
        self._fit_mode = True
        self.view_box.setRange(self.image_rect_in_view(), padding=0.0)

    def zoom(self) -> float:
        """Screen pixels per image pixel (0 before the view has a size)."""
        px = self.view_box.viewPixelSize()[0]
        return 1.0 / px if px else 0.0

    def set_zoom(self, zoom: float, center: QPointF | None = None) -> None:
        """Zoom to ``zoom`` screen pixels per image pixel around ``center`` (view coordinates)."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        current = self.zoom()
        if not current:
            return
        self._fit_mode = False
        if center is None:
            center = self.view_box.viewRect().center()
        f = current / zoom
        self.view_box.scaleBy(x=f, y=f, center=center)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / ZOOM_STEP)

    def zoom_1to1(self) -> None:
        self.set_zoom(1.0)

    def reset_view(self) -> None:
        """Default window, no invert, no rotation or flip, fitted."""
        if self.rad is None:
            return
        self._fit_mode = True
        self.display = DisplayState.default(self.rad)
        self._apply_orientation()
        self._refresh_image()
        self._emit_window()

    def _on_manual_range(self, *_):
        self._fit_mode = False

    def _on_resized(self, *_):
        if self._fit_mode:
            self.fit()

    def _on_range_changed(self, *_):
        level = self._wanted_level()
        if level != self._level:
            self._level = level
            self._refresh_image()
        self._update_annotations()
        self.zoomChanged.emit(self.zoom())

    # ----------------------------------------------------------------- mouse
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self.rad is None:
            return
        p = self.scene_to_image(scene_pos)
        col, row = int(math.floor(p.x())), int(math.floor(p.y()))
        h, w = self.rad.pixels.shape
        if 0 <= col < w and 0 <= row < h:
            self.cursorMoved.emit((col, row, self.rad.pixels[row, col].item()))
        else:
            self.cursorMoved.emit(None)

    # ----------------------------------------------------------- measurement
    @property
    def calibration(self) -> MeasurementScale | None:
        """The reader's calibration of this film (None: the header's scale); the corner text follows it."""
        return self._calibration

    @calibration.setter
    def calibration(self, scale: MeasurementScale | None) -> None:
        self._calibration = scale
        self._update_annotations()

    def measurement_scale(self) -> MeasurementScale:
        """The reader's calibration of this film when there is one, else what its header says."""
        if self.calibration is not None:
            return self.calibration
        return scale_for_radiograph(self.rad) if self.rad is not None else NO_SPACING

    def set_measure_mode(self, on: bool) -> None:
        self.view_box.measure_mode = bool(on)

    @property
    def measure_mode(self) -> bool:
        return self.view_box.measure_mode

    def _on_measure_drag(self, phase: str, start: QPointF, current: QPointF) -> None:
        """A left drag while a tool is on goes to the annotation tool (ui.annotate.controller)."""
        if self.rad is not None and self.drag_tool is not None:
            self.drag_tool(phase, self.scene_to_image(start), self.scene_to_image(current))

    # ----------------------------------------------------------- annotations
    def set_annotations_visible(self, on: bool) -> None:
        self._annotations_on = bool(on)
        self.annotations.setVisible(self._annotations_on)

    def annotations_visible(self) -> bool:
        return self._annotations_on

    def set_position_text(self, text: str) -> None:
        """E.g. "Im 2/5": where the image sits in its series (set by the main window)."""
        self.position_text = text
        self._update_annotations()

    def orientation_description(self) -> str:
        return self.display.orientation_text() if self.display is not None else ""

    def _edge_labels(self) -> dict[str, str]:
        header = getattr(self.rad, "header", None)
        value = header.get("PatientOrientation") if header is not None else None
        try:
            row_dir, col_dir = [str(v) for v in value]
        except (TypeError, ValueError):
            return {}
        if not row_dir or not col_dir:
            return {}
        return vo.edge_labels(self.orientation, row_dir, col_dir)

    def _update_annotations(self) -> None:
        if self.rad is None or self.window is None:
            return
        texts = corner_texts(self.rad, self.window.center, self.window.width, self.window.name,
                             self.zoom(), self.orientation_description(), self.position_text, self.inverted,
                             self.measurement_scale())
        texts.update(self._edge_labels())
        for key, extra in self.corner_extra.items():  # e.g. "PRIOR 2003-12-08" from ui.viewer.layouts
            texts[key] = "\n".join(x for x in (extra, texts.get(key, "")) if x)
        self.annotations.set_texts(texts)
