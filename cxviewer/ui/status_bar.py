"""Status bar: loading progress and messages on the left; cursor position, modality value, window,
zoom and the AI compute device as permanent fields on the right."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget


def format_value(value: float | int) -> str:
    """Modality values and windows for reading: no exponents, decimals only for small numbers."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.4g}"
    return str(int(value))


class ViewerStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("viewerStatusBar")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("loadProgress")
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.addWidget(self.progress)
        self.position_label = self._field("cursorPositionLabel", 120)
        self.value_label = self._field("pixelValueLabel", 110)
        self.window_label = self._field("windowLabel", 140)
        self.zoom_label = self._field("zoomLabel", 80)
        self.device_label = self._field("computeDeviceLabel", 120)
        self.device_label.setToolTip("Device that runs the AI model")
        self.set_device("")

    def _field(self, name: str, width: int) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setMinimumWidth(width)
        self.addPermanentWidget(label)
        return label

    def set_cursor(self, info) -> None:
        """``info`` = (column, row, modality value) or None when the cursor is off the image."""
        if info is None:
            self.position_label.setText("")
            self.value_label.setText("")
            return
        col, row, value = info
        self.position_label.setText(f"x {col}  y {row}")
        self.value_label.setText(f"Value {format_value(value)}")

    def set_window(self, center: float, width: float) -> None:
        self.window_label.setText(f"W {format_value(float(width))}  L {format_value(float(center))}")

    def set_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"Zoom {zoom * 100:.0f}%" if zoom else "")

    def set_device(self, text: str) -> None:
        """Where the AI model runs ("CPU", "GPU:0 ..."); empty = model not loaded yet."""
        self.device_label.setText(f"AI: {text}" if text else "AI: not loaded")

    def start_progress(self, total: int) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(0)
        self.progress.setFormat("Loading %v/%m")
        self.progress.show()

    def set_progress(self, done: int, total: int) -> None:
        if self.progress.maximum() != total:
            self.progress.setMaximum(total)
        self.progress.setValue(done)

    def finish_progress(self) -> None:
        self.progress.hide()

    def clear_image_fields(self) -> None:
        for label in (self.position_label, self.value_label, self.window_label, self.zoom_label):
            label.setText("")
