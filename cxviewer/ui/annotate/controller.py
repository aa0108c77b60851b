"""One image view's annotations: drawing, selecting, moving, editing and undoing them; saved per film.

One ``AnnotationController`` per image view. A tool ("distance", "angle", "arrow", "text",
"ellipse", "ctr", "calibrate" or "select"; "" = none, left drag pans) takes the view's left drags
and clicks. Two-step tools: the angle is one drag to the vertex then one drag to the second end;
the cardiothoracic ratio is the heart's horizontal diameter then the thorax's. Every change goes
through a QUndoStack as an ``annotate.model`` edit, and the film's document is saved (0600) after
each change and loaded again when the film is shown. The Annotate menu over every view is ``tools``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace as with_changes
from typing import Any

from PySide6.QtCore import QObject, QPointF, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QInputDialog

from cxviewer.annotate.model import Annotation, AnnotationDocument, CalibrationEdit, Edit
from cxviewer.annotate.store import AnnotationStore, film_key
from cxviewer.annotate.values import label
from cxviewer.imaging.spacing import scale_for_radiograph, user_calibration
from cxviewer.ui.annotate.items import NORMAL_COLOR, PREVIEW_COLOR, SELECTED_COLOR, AnnotationGraphic

log = logging.getLogger(__name__)

PICK_SCREEN_PX = 8.0  # a click this close (on screen) to an annotation selects it

MIN_DRAG_PX = 2.0  # shorter drags (in image pixels) draw nothing

TOOLS = {  # name: (menu text, shortcut, status hint)
    "select": ("&Select / move", "S", "click an annotation to select it, drag to move, Delete removes it"),
    "distance": ("&Distance", "D", "drag along what to measure"),
    "angle": ("A&ngle", "N", "drag from the first end to the vertex, then from the vertex to the second end"),
    "arrow": ("&Arrow", "W", "drag from the label end to the point of interest"),
    "text": ("&Text", "X", "click where the text goes"),
    "ellipse": ("&Ellipse ROI", "E", "drag the ROI's bounding box: mean, SD, min, max of the pixel values"),
    "ctr": ("&Cardiothoracic ratio", "C", "drag the heart's widest horizontal diameter, then the thorax's"),
    "calibrate": ("Ca&librate\N{HORIZONTAL ELLIPSIS}", "K", "drag over an object of known length, then type it"),
}


def ask_text_dialog(parent, title: str, prompt: str, current: str = "") -> str | None:
    text, ok = QInputDialog.getText(parent, title, prompt, text=current)
    return text if ok else None


def ask_length_dialog(parent, measured: str) -> float | None:
    value, ok = QInputDialog.getDouble(parent, "Calibrate", f"The line measures {measured}.\n"
                                       "Its true length in mm:", 10.0, 0.01, 100000.0, 2)
    return float(value) if ok else None


class _EditCommand(QUndoCommand):
    def __init__(self, controller: AnnotationController, edit, text: str):
        super().__init__(text)
        self._controller = controller
        self._edit = edit
        self._inverse = None

    def redo(self) -> None:
        self._inverse = self._controller.doc.apply(self._edit)
        self._controller._changed()

    def undo(self) -> None:
        self._controller.doc.apply(self._inverse)
        self._controller._changed()


class AnnotationController(QObject):
    changed = Signal()  # the film's annotations or calibration changed (after saving)
    toolChanged = Signal(str)
    message = Signal(str)  # something the reader should read in the status bar

    def __init__(self, view, store: AnnotationStore | None = None,
                 ask_text: Callable[..., str | None] | None = None,
                 ask_length: Callable[[str], float | None] | None = None, parent: QObject | None = None):
        super().__init__(parent or view)
        self.view = view
        self.store = store or AnnotationStore()
        self.ask_text = ask_text or (lambda title, prompt, current="": ask_text_dialog(view, title, prompt, current))
        self.ask_length = ask_length or (lambda measured: ask_length_dialog(view, measured))
        self.undo_stack = QUndoStack(self)
        self.doc: AnnotationDocument | None = None
        self.graphics: dict[str, AnnotationGraphic] = {}
        self.selected: str | None = None
        self.tool = ""
        self._pending: list[tuple[float, float]] = []  # first drag of a two-step tool
        self._preview: AnnotationGraphic | None = None
        self._moving: Annotation | None = None
        view.imageChanged.connect(self._on_image)
        view.view_box.measureClicked.connect(self._on_click)
        view.view_box.doubleClicked.connect(self._on_double_click)
        if view.rad is not None:
            self._on_image(view.rad)

    # ------------------------------------------------------------ film
    def _on_image(self, rad: Any) -> None:
        self._clear_graphics()
        self.undo_stack.clear()
        self.selected = None
        self._pending = []
        self.doc = None  # nothing drawn from here on can land in the previous film's file
        if rad is None:
            return
        self.doc = self.store.load(film_key(rad))
        self.view.calibration = self.doc.calibration
        self._redraw()

    def _changed(self) -> None:
        self.view.calibration = self.doc.calibration
        if self.selected is not None and self.doc.find(self.selected) is None:
            self.selected = None
        self._redraw()
        try:
            self.store.save(self.doc)
        except OSError as exc:
            log.error("annotations for %s not saved: %s", self.doc.key, exc)
        self.changed.emit()

    # ------------------------------------------------------------ drawing
    def scale(self):
        return self.view.measurement_scale()

    def label_for(self, a: Annotation) -> str:
        rad = self.view.rad
        return label(a, self.scale(), rad.pixels if rad is not None else None, getattr(rad, "padding", None))

    def _clear_graphics(self) -> None:
        for g in self.graphics.values():
            g.remove()
        self.graphics.clear()
        self._drop_preview()

    def _redraw(self) -> None:
        self._clear_graphics()
        if self.doc is None:
            return
        parent = self.view.overlay_parent()
        where = self.scale().explanation  # what "mm at detector" / "mm calibrated" means for this film
        for a in self.doc.annotations:
            color = SELECTED_COLOR if a.uid == self.selected else NORMAL_COLOR
            g = self.graphics[a.uid] = AnnotationGraphic(parent, a, self.label_for(a), color)
            if a.kind in ("distance", "ellipse", "ctr"):
                g.label.setToolTip(where)

    def _show_preview(self, a: Annotation) -> None:
        # ROI statistics come when the drag ends (a large ellipse on a 9 MP film costs tens of ms)
        text = self.label_for(a) if a.kind not in ("text", "arrow", "ellipse") else ""
        if self._preview is None:
            self._preview = AnnotationGraphic(self.view.overlay_parent(), a, text, PREVIEW_COLOR)
        else:
            self._preview.update(a, text, PREVIEW_COLOR)

    def _drop_preview(self) -> None:
        if self._preview is not None:
            self._preview.remove()
            self._preview = None

    # ------------------------------------------------------------ edits
    def push(self, edit, text: str) -> None:
        if self.doc is None:
            return
        self.undo_stack.push(_EditCommand(self, edit, text))

    def add(self, a: Annotation) -> Annotation:
        self.push(Edit(None, a), f"Add {a.kind}")
        return a

    def replace(self, old: Annotation, new: Annotation) -> None:
        self.push(Edit(old, new), f"Change {old.kind}")

    def delete_selected(self) -> bool:
        a = self.doc.find(self.selected) if self.doc is not None and self.selected else None
        if a is None:
            return False
        self.push(Edit(a, None), f"Delete {a.kind}")
        return True

    def cancel_drawing(self) -> bool:
        """Drop a half-drawn annotation (an angle's or a CTR's first line, a drag's preview, a move in
        progress); returns whether there was one. Nothing saved changes."""
        busy = bool(self._pending or self._preview is not None or self._moving is not None)
        self._pending = []
        self._drop_preview()
        if self._moving is not None:  # the dragged graphic goes back where it is saved
            self._moving = None
            self._redraw()
        return busy

    def edit_selected_text(self) -> bool:
        """Change the words of the selected text or arrow (one undoable step)."""
        a = self.doc.find(self.selected) if self.doc is not None and self.selected else None
        if a is None or a.kind not in ("text", "arrow"):
            return False
        text = self.ask_text("Edit text", "Text:", a.text)
        if text is None or text.strip() == a.text or (a.kind == "text" and not text.strip()):
            return False
        self.replace(a, with_changes(a, text=text.strip()))
        return True

    def clear_all(self) -> None:
        if self.doc is None or not self.doc.annotations:
            return
        self.undo_stack.beginMacro("Delete all annotations")
        for a in list(self.doc.annotations):
            self.push(Edit(a, None), f"Delete {a.kind}")
        self.undo_stack.endMacro()

    def calibrate(self, p0, p1, known_mm: float) -> None:
        base = scale_for_radiograph(self.view.rad)
        self.push(CalibrationEdit(self.doc.calibration, user_calibration(base, p0, p1, known_mm)), "Calibrate")

    def remove_calibration(self) -> None:
        if self.doc is not None and self.doc.calibration is not None:
            self.push(CalibrationEdit(self.doc.calibration, None), "Remove calibration")

    def select(self, uid: str | None) -> None:
        self.selected = uid
        self._redraw()

    # ------------------------------------------------------------ tools
    def set_tool(self, tool: str) -> None:
        if tool and tool not in TOOLS:
            raise ValueError(tool)
        self.tool = tool
        self._pending = []
        self._drop_preview()
        self.view.set_measure_mode(bool(tool))
        self.view.drag_tool = self._on_drag if tool else None
        # the Select tool takes only drags that start on an annotation; others pan the image
        self.view.view_box.claims_drag = self._on_annotation if tool == "select" else None
        self.toolChanged.emit(tool)

    def _tolerance(self) -> float:
        zoom = self.view.zoom() or 1.0
        return PICK_SCREEN_PX / zoom

    def _on_annotation(self, scene_pos: QPointF) -> bool:
        if self.doc is None:
            return False
        p = self.view.scene_to_image(scene_pos)
        return self.doc.pick((p.x(), p.y()), self._tolerance()) is not None

    def _label_at(self, scene_pos: QPointF) -> Annotation | None:
        """The text or arrow whose words are under ``scene_pos`` (or whose point is within reach)."""
        if self.doc is None:
            return None
        for a in reversed(self.doc.annotations):
            g = self.graphics.get(a.uid)
            if a.kind in ("text", "arrow") and g is not None and g.label.isVisible() \
                    and g.label.sceneBoundingRect().contains(scene_pos):
                return a
        p = self.view.scene_to_image(scene_pos)
        hit = self.doc.pick((p.x(), p.y()), self._tolerance())
        return hit if hit is not None and hit.kind in ("text", "arrow") else None

    def _on_double_click(self, scene_pos: QPointF) -> None:
        """A double click on a text or an arrow's label edits its words (as F2 on the selection). With
        the Text tool on, a click already places a new text: the double click is left to it."""
        if self.doc is None or self.view.rad is None or self.tool == "text":
            return
        hit = self._label_at(scene_pos)
        if hit is None:
            return
        self.select(hit.uid)
        self.edit_selected_text()

    def _on_click(self, scene_pos: QPointF) -> None:
        if self.doc is None or self.view.rad is None:
            return
        p = self.view.scene_to_image(scene_pos)
        pt = (p.x(), p.y())
        if self.tool == "select":
            hit = self.doc.pick(pt, self._tolerance()) or self._label_at(scene_pos)
            self.select(hit.uid if hit else None)
        elif self.tool == "text":
            self._finish_text(pt)

    def _finish_text(self, pt) -> None:
        text = self.ask_text("Text", "Text to place on the image:")
        if text and text.strip():
            self.add(Annotation("text", (pt,), text.strip()))

    def _on_drag(self, phase: str, p0: QPointF, p1: QPointF) -> None:
        if self.doc is None or self.view.rad is None:
            return
        a, b = (p0.x(), p0.y()), (p1.x(), p1.y())
        tool = self.tool
        if tool == "select":
            self._drag_select(phase, a, b)
            return
        long_enough = abs(b[0] - a[0]) >= MIN_DRAG_PX or abs(b[1] - a[1]) >= MIN_DRAG_PX
        if tool == "text":
            if phase == "finish":
                self._finish_text(b)
            return
        shape = self._shape(tool, a, b)
        if shape is None:
            return
        if phase != "finish":
            self._show_preview(shape)
            return
        self._drop_preview()
        if not long_enough:
            return
        if tool == "angle" and not self._pending:
            self._pending = [a, b]
            self._show_preview(Annotation("distance", (a, b)))
            return
        if tool == "ctr" and not self._pending:
            self._pending = [a, (b[0], a[1])]
            self._show_preview(Annotation("distance", tuple(self._pending)))
            return
        self._pending = []
        if tool == "calibrate":
            scale = scale_for_radiograph(self.view.rad)
            measured = scale.format_length(scale.length(a, b))
            known = self.ask_length(measured)
            if known:
                try:
                    self.calibrate(a, b, known)
                except ValueError as exc:
                    self.message.emit(f"Not calibrated: {exc}")
            return
        if tool == "arrow":
            text = self.ask_text("Arrow", "Label for the arrow (may be empty):")
            if text is None:
                return
            shape = Annotation("arrow", shape.points, text.strip())
        self.add(shape)

    def _shape(self, tool: str, a, b) -> Annotation | None:
        if tool in ("distance", "arrow", "ellipse"):
            return Annotation(tool, (a, b))
        if tool == "calibrate":
            return Annotation("distance", (a, b))
        if tool == "angle":
            if self._pending:
                return Annotation("angle", (self._pending[0], self._pending[1], b))
            return Annotation("distance", (a, b))
        if tool == "ctr":
            if self._pending:
                return Annotation("ctr", (*self._pending, a, (b[0], a[1])))
            return Annotation("distance", (a, (b[0], a[1])))
        return None

    def _drag_select(self, phase: str, a, b) -> None:
        if phase == "start" or self._moving is None:
            hit = self.doc.pick(a, self._tolerance())
            self._moving = hit
            self.select(hit.uid if hit else None)
            if hit is None:
                return
        moved = self._moving.moved(b[0] - a[0], b[1] - a[1])
        graphic = self.graphics.get(moved.uid)
        if graphic is not None:  # an ROI's figures are computed again where it is dropped
            text = "ROI\N{HORIZONTAL ELLIPSIS}" if moved.kind == "ellipse" else self.label_for(moved)
            graphic.update(moved, text, SELECTED_COLOR)
        if phase == "finish":
            old, self._moving = self._moving, None
            if moved.points != old.points:
                self.replace(old, moved)
