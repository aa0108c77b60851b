"""The AI panel: probabilities as bars, the leading class, model and timing, and the research-use note."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QProgressBar,
    QSlider,
    QVBoxLayout,
    QWidget,
)

NOTICE = "Research software, not a medical device. A second look, not a diagnosis."
DISPLAY_NAMES = {"covid": "COVID-19", "pneumonia": "Other pneumonia", "normal": "Normal"}
COLORMAPS = ("inferno", "viridis", "plasma", "magma", "CET-R4")


def _where(prediction) -> str:
    """Device and runtime, e.g. "CPU (XNNPACK, 2 threads) · LiteRT"."""
    from cxviewer.report.content import RUNTIME_NAMES

    runtime = RUNTIME_NAMES.get(prediction.runtime, prediction.runtime)
    return f"{prediction.device} · {runtime}" if runtime else prediction.device


class AIPanel(QWidget):
    overlayToggled = Signal(bool)
    outlineToggled = Signal(bool)
    opacityChanged = Signal(float)
    colormapChanged = Signal(str)

    def __init__(self, labels=("covid", "pneumonia", "normal"), parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("aiPanel")
        layout = QVBoxLayout(self)
        self.status = QLabel("Open a radiograph to get the model's second look.")
        self.status.setWordWrap(True)
        self.status.setObjectName("aiStatus")
        layout.addWidget(self.status)
        self.leading = QLabel("")
        self.leading.setObjectName("aiLeading")
        font = self.leading.font()
        font.setPointSize(font.pointSize() + 3)
        font.setBold(True)
        self.leading.setFont(font)
        layout.addWidget(self.leading)

        grid = QGridLayout()
        self.bars: dict[str, QProgressBar] = {}
        for row, label in enumerate(labels):
            grid.addWidget(QLabel(DISPLAY_NAMES.get(label, label)), row, 0)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setFormat("—")
            bar.setTextVisible(True)
            grid.addWidget(bar, row, 1)
            self.bars[label] = bar
        layout.addLayout(grid)

        self.details = QLabel("")
        self.details.setObjectName("aiDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details)

        form = QFormLayout()
        self.overlay_box = QCheckBox("Show Grad-CAM overlay (G)")
        self.overlay_box.toggled.connect(self.overlayToggled)
        form.addRow(self.overlay_box)
        self.outline_box = QCheckBox("Show lung outline (O)")
        self.outline_box.setToolTip("The lung segmenter's mask as a contour: what a cropping model was shown")
        self.outline_box.toggled.connect(self.outlineToggled)
        form.addRow(self.outline_box)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(45)
        self.opacity.valueChanged.connect(lambda v: self.opacityChanged.emit(v / 100.0))
        form.addRow("Opacity", self.opacity)
        self.colormap = QComboBox()
        self.colormap.addItems(COLORMAPS)
        self.colormap.currentTextChanged.connect(self.colormapChanged)
        form.addRow("Colour map", self.colormap)
        layout.addLayout(form)

        notice = QLabel(NOTICE)
        notice.setWordWrap(True)
        notice.setStyleSheet("color: #b07000;")
        layout.addWidget(notice)
        layout.addStretch(1)

    def _reset_bars(self) -> None:
        for bar in self.bars.values():
            bar.setValue(0)
            bar.setFormat("—")

    def show_idle(self, text: str = "Open a radiograph to get the model's second look.") -> None:
        self.status.setText(text)
        self.leading.setText("")
        self.details.setText("")
        self._reset_bars()

    def show_busy(self, loading_model: bool = False) -> None:
        self.status.setText("Loading the model and analysing…" if loading_model else "Analysing…")
        self.leading.setText("")
        self._reset_bars()

    def show_error(self, message: str) -> None:
        self.status.setText(f"The model could not give an opinion: {message}")
        self.leading.setText("")
        self.details.setText("")
        self._reset_bars()

    def show_out_of_scope(self, prediction) -> None:
        self._reset_bars()
        self.status.setText(f"Outside the model's scope: {prediction.scope_text.rstrip('.')}. No opinion is given.")
        self.leading.setText("Outside the model's scope")
        self.details.setText(f"{prediction.model_name} {prediction.model_version} · {_where(prediction)}")

    def show_prediction(self, prediction) -> None:
        for label, p in zip(prediction.labels, prediction.probabilities):
            bar = self.bars.get(label)
            if bar is not None:
                bar.setValue(int(round(p * 1000)))
                bar.setFormat(f"{p * 100:.1f} %")
        self.status.setText("Model opinion")
        self.leading.setText(f"{DISPLAY_NAMES.get(prediction.label, prediction.label)}  {prediction.confidence * 100:.0f} %")
        details = (f"{prediction.model_name} {prediction.model_version} · {prediction.elapsed_ms:.0f} ms on "
                   f"{_where(prediction)}")
        if prediction.lung_crop == "applied":
            details += "\nThe model saw the lung fields only (crop from the lung segmenter)."
        elif prediction.lung_crop == "lungs not found":
            details += "\nLungs not found: the model saw the whole film, not its usual lung crop. Read with extra care."
        self.details.setText(details)
