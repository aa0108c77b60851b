"""The AI panel: the call (or "uncertain" and why), probabilities as bars with their figures beside them, where the
model looked, what it cannot see, model and timing, a colour legend for the overlay, and the research-use note."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from cxviewer.class_names import display_name
from cxviewer.no_call import no_call_sentence
from cxviewer.report.ai_block import MODEL_SCOPE, attention_text
from cxviewer.ui.ai.inference import where_it_runs

NOTICE = "Research software, not a medical device. A second look, not a diagnosis."
COLORMAPS = ("inferno", "viridis", "plasma", "magma", "CET-R4")


def in_sentence(name: str) -> str:
    """A class name inside a sentence: 'Other pneumonia' -> 'other pneumonia'; an acronym ('COVID-19') stays."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


class AIPanel(QWidget):
    overlayToggled = Signal(bool)
    outlineToggled = Signal(bool)
    opacityChanged = Signal(float)
    colormapChanged = Signal(str)

    def __init__(self, labels: tuple[str, ...] | None = None, names: dict[str, str] | None = None,
                 parent: QWidget | None = None):
        """``labels``: the model card's classes, one row each (default: the default model's card);
        ``names``: the card's display names. A prediction with other labels rebuilds the rows."""
        super().__init__(parent)
        self.setObjectName("aiPanel")
        layout = QVBoxLayout(self)
        self.status = QLabel("Open a radiograph to get the model's second look.")
        self.status.setWordWrap(True)
        self.status.setObjectName("aiStatus")
        layout.addWidget(self.status)
        self.leading = QLabel("")
        self.leading.setObjectName("aiLeading")
        self.leading.setWordWrap(True)  # "Uncertain: COVID-19 40 %, other pneumonia 37 %, normal 23 %" is long
        font = self.leading.font()
        font.setPointSize(font.pointSize() + 3)
        font.setBold(True)
        self.leading.setFont(font)
        layout.addWidget(self.leading)
        self.call_note = QLabel("")  # under "Uncertain: ...": why the model made no call on this film
        self.call_note.setObjectName("aiCallNote")
        self.call_note.setWordWrap(True)
        self.call_note.hide()
        layout.addWidget(self.call_note)

        self._grid = QGridLayout()
        self.bars: dict[str, QProgressBar] = {}
        self.figures: dict[str, QLabel] = {}
        self.names: dict[str, str] = {}
        if labels is None:
            from cxviewer.model.registry import default_card

            card = default_card()
            labels, names = (card.labels, card.display_names) if card else ((), None)
        self.set_labels(labels, names)
        layout.addLayout(self._grid)

        self.attention = QLabel("")
        self.attention.setObjectName("aiAttention")
        self.attention.setWordWrap(True)
        layout.addWidget(self.attention)
        self.scope = QLabel(MODEL_SCOPE)
        self.scope.setObjectName("aiScope")
        self.scope.setWordWrap(True)
        layout.addWidget(self.scope)

        self.anyway = QPushButton("Show the probabilities anyway")
        self.anyway.setObjectName("aiShowAnyway")
        self.anyway.setToolTip("The out-of-scope rules refused this film; its probabilities are shown at your request, "
                               "marked out of scope")
        self.anyway.clicked.connect(self._show_anyway)
        self.anyway.hide()
        layout.addWidget(self.anyway)
        self._refused = None

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
        self.legend = ColourLegend(self.colormap.currentText())
        self.colormap.currentTextChanged.connect(self.legend.set_colormap)
        legend_row = QHBoxLayout()
        legend_row.addWidget(QLabel("low"))
        legend_row.addWidget(self.legend)
        legend_row.addWidget(QLabel("high"))
        legend_row.addStretch(1)
        form.addRow("Grad-CAM", legend_row)
        layout.addLayout(form)

        notice = QLabel(NOTICE)
        notice.setWordWrap(True)
        notice.setStyleSheet("color: #b07000;")
        layout.addWidget(notice)
        layout.addStretch(1)

    def set_labels(self, labels, names: dict[str, str] | None = None) -> None:
        """One row (name, bar, figure) per class of the model, in the card's order."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.bars, self.figures = {}, {}
        self.names = {label: display_name(label, names) for label in labels}
        for row, label in enumerate(labels):
            name = QLabel(self.names[label])
            name.setObjectName("aiClassName")
            self._grid.addWidget(name, row, 0)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(False)  # the figure sits beside the bar, never across its edge
            self._grid.addWidget(bar, row, 1)
            figure = QLabel("—")
            figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            figure.setMinimumWidth(figure.fontMetrics().horizontalAdvance("100.0 %") + 4)
            self._grid.addWidget(figure, row, 2)
            self.bars[label] = bar
            self.figures[label] = figure

    def _name(self, label: str) -> str:
        return self.names.get(label) or display_name(label)

    # ------------------------------------------------------------------ overlay controls (the panel's API)
    def overlay_checked(self) -> bool:
        return self.overlay_box.isChecked()

    def set_overlay_checked(self, on: bool) -> None:
        self.overlay_box.setChecked(bool(on))  # emits overlayToggled when it changes

    def outline_checked(self) -> bool:
        return self.outline_box.isChecked()

    def set_outline_checked(self, on: bool) -> None:
        self.outline_box.setChecked(bool(on))  # emits outlineToggled when it changes

    def overlay_style(self) -> tuple[str, float]:
        """(colour map name, opacity 0..1) of the Grad-CAM overlay."""
        return self.colormap.currentText(), self.opacity.value() / 100.0

    def set_overlay_style(self, colormap: str, opacity: float) -> None:
        """Unknown colour maps are ignored (the current one stays)."""
        self.opacity.setValue(int(round(float(opacity) * 100)))
        if self.colormap.findText(colormap) >= 0:
            self.colormap.setCurrentText(colormap)

    def _reset_bars(self) -> None:
        for bar in self.bars.values():
            bar.setValue(0)
        for figure in self.figures.values():
            figure.setText("—")
        self.attention.setText("")

    def _set_leading(self, text: str, bold: bool, note: str = "") -> None:
        """The headline, and under it (and as its tooltip) ``note``: why an uncertain film got no call."""
        font = self.leading.font()
        font.setBold(bold)
        self.leading.setFont(font)
        self.leading.setText(text)
        self.leading.setToolTip(note)
        self.call_note.setText(note)
        self.call_note.setVisible(bool(note))

    def show_idle(self, text: str = "Open a radiograph to get the model's second look.") -> None:
        self.anyway.hide()
        self.status.setText(text)
        self._set_leading("", bold=False)
        self.details.setText("")
        self._reset_bars()

    def show_busy(self, loading_model: bool = False) -> None:
        self.anyway.hide()
        self.status.setText("Loading the model and analysing…" if loading_model else "Analysing…")
        self._set_leading("", bold=False)
        self._reset_bars()

    def show_error(self, message: str) -> None:
        self.anyway.hide()
        self.status.setText(f"The model could not give an opinion: {message}")
        self._set_leading("", bold=False)
        self.details.setText("")
        self._reset_bars()

    def show_out_of_scope(self, prediction) -> None:
        self._reset_bars()
        # The network ran (distance gate or film check): its probabilities exist and may be shown on request.
        # A header refusal (CT, another body part) never ran the network: nothing to show.
        ran = all(p == p for p in prediction.probabilities)
        self._refused = prediction if ran else None
        self.anyway.setVisible(ran)
        self.status.setText(f"Outside the model's scope: {prediction.scope_text.rstrip('.')}. No opinion is given.")
        self._set_leading("Outside the model's scope", bold=False)
        where = where_it_runs(prediction.device, prediction.runtime)
        self.details.setText(f"{prediction.model_name} {prediction.model_version} · {where}")

    def _show_anyway(self) -> None:
        prediction = self._refused
        if prediction is None:
            return
        self.show_prediction(prediction)
        self.status.setText(f"Outside the model's scope ({prediction.scope_text.rstrip('.')}); "
                            "probabilities shown at the reader's request.")
        self._set_leading("Out of scope, shown anyway", bold=False)

    def show_prediction(self, prediction) -> None:
        self.anyway.hide()
        if tuple(prediction.labels) != tuple(self.bars):  # a model with other classes: its own rows
            self.set_labels(tuple(prediction.labels))
        for label, p in zip(prediction.labels, prediction.probabilities):
            self.bars[label].setValue(int(round(p * 1000)))
            self.figures[label].setText(f"{p * 100:.1f} %")
        self.status.setText("Model opinion" + (" (calibrated probabilities)" if prediction.calibrated else ""))
        if prediction.call == "uncertain":
            ranked = sorted(zip(prediction.labels, prediction.probabilities), key=lambda lp: -lp[1])
            parts = [f"{self._name(k) if i == 0 else in_sentence(self._name(k))} {p * 100:.0f} %"
                     for i, (k, p) in enumerate(ranked)]
            self._set_leading("Uncertain: " + ", ".join(parts), bold=False, note=no_call_sentence(prediction.call_note))
        else:
            called = prediction.call or prediction.label
            self._set_leading(f"{self._name(called)}  {prediction.confidence * 100:.0f} %", bold=True)
        self.attention.setText(attention_text(getattr(prediction, "attention_in_lungs", None)))
        details = (f"{prediction.model_name} {prediction.model_version} · {prediction.elapsed_ms:.0f} ms on "
                   f"{where_it_runs(prediction.device, prediction.runtime)}")
        if prediction.lung_crop == "applied":
            details += "\nThe model saw the lung fields only (crop from the lung segmenter)."
        elif prediction.lung_crop == "lungs not found":
            details += "\nLungs not found: the model saw the whole film, not its usual lung crop. Read with extra care."
        self.details.setText(details)


class ColourLegend(QLabel):
    """The overlay's colour scale, low to high, as the overlay draws it."""

    def __init__(self, colormap: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("aiLegend")
        self.setToolTip("Grad-CAM colour scale: left, least attention; right, most")
        self.set_colormap(colormap)

    def set_colormap(self, name: str) -> None:
        import numpy as np
        import pyqtgraph as pg
        from PySide6.QtGui import QImage, QPixmap

        lut = pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)
        strip = np.ascontiguousarray(np.repeat(lut[np.newaxis], 12, axis=0))
        image = QImage(strip.data, 256, 12, 256 * 3, QImage.Format.Format_RGB888).copy()
        self.setPixmap(QPixmap.fromImage(image).scaled(160, 12))
        self.setText("")
        self.name = name
