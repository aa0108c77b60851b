"""pyqtgraph ViewBox with a radiology reader's mouse: left drag pans (or measures when the distance
tool is on), right or middle drag adjusts window/level, the wheel zooms around the cursor."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

_WL_BUTTONS = (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton)


class ReadingViewBox(pg.ViewBox):
    # screen-pixel motion since the last event while a W/L button is held; dx right, dy down
    windowDragged = Signal(float, float)
    windowDragStarted = Signal()
    # measurement drag: phase ("start" | "move" | "finish"), start and current points in scene coords
    measureDragged = Signal(str, QPointF, QPointF)
    measureClicked = Signal(QPointF)  # a left click while a tool is on, in scene coords
    doubleClicked = Signal(QPointF)  # a left double click (any tool), in scene coords

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.measure_mode = False
        self.claims_drag = None  # callable(scene point) -> bool, asked when a left drag starts in measure mode
        self._tool_drag = True
        self.setMenuEnabled(False)  # right button is window/level, not a context menu
        self.setAspectLocked(True)
        self.invertY(True)  # row 0 at the top, as images are read

    def mouseDragEvent(self, ev, axis=None):
        button = ev.button()
        if button in _WL_BUTTONS:
            ev.accept()
            if ev.isStart():
                self.windowDragStarted.emit()
            d = ev.screenPos() - ev.lastScreenPos()
            if d.x() or d.y():
                self.windowDragged.emit(float(d.x()), float(d.y()))
            return
        if button == Qt.MouseButton.LeftButton and self.measure_mode:
            if ev.isStart():  # a tool may leave a drag that starts on nothing of its own to panning
                start = QPointF(self.mapToScene(ev.buttonDownPos(button)))
                self._tool_drag = self.claims_drag is None or bool(self.claims_drag(start))
        if button == Qt.MouseButton.LeftButton and self.measure_mode and self._tool_drag:
            ev.accept()
            phase = "start" if ev.isStart() else "finish" if ev.isFinish() else "move"
            start = self.mapToScene(ev.buttonDownPos(button))
            self.measureDragged.emit(phase, QPointF(start), QPointF(ev.scenePos()))
            return
        super().mouseDragEvent(ev, axis)  # left drag pans (PanMode)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton and ev.double():
            ev.accept()
            self.doubleClicked.emit(QPointF(ev.scenePos()))
            return
        if ev.button() == Qt.MouseButton.LeftButton and self.measure_mode:
            ev.accept()
            self.measureClicked.emit(QPointF(ev.scenePos()))
            return
        super().mouseClickEvent(ev)
