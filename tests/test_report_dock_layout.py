"""The report pane fits its dock (issue 19 item 3): after Finalise nothing is cut off at the right:
every button and the impression text lie inside the visible width, and what is longer wraps."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QPlainTextEdit
from report_samples import JAPANESE, dicom_copy, edge_energy_map

from cxviewer.imaging import read_radiograph, render_display
from cxviewer.model import Prediction
from cxviewer.ui.app import build_main_window
from cxviewer.ui.report.dock import ReportDock
from cxviewer.settings import Settings

SHOTS = os.environ.get("CXVIEWER_SCREENSHOTS")


def _cut_off(dock) -> list[str]:
    """Widgets of the pane that reach past the right edge of what the dock shows."""
    scroll = dock.widget()
    viewport = scroll.viewport()
    right = viewport.width()
    out = []
    widgets = [w for kind in (QAbstractButton, QLabel, QPlainTextEdit) for w in scroll.widget().findChildren(kind)]
    for w in widgets:
        if not w.isVisible():
            continue
        edge = w.mapTo(viewport, QPoint(w.width(), 0)).x()
        if edge > right + 1:
            out.append(f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}: right edge {edge} > {right}")
    return out


@pytest.mark.parametrize("dock_width", [300, 380])
def test_nothing_is_cut_off_after_finalise(qtbot, tmp_path, dock_width):
    window, inference = build_main_window(Settings.load())  # the pane with all it holds (PACS sender...)
    qtbot.addWidget(window)
    dock = window.findChild(ReportDock, "reportDock")
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    rad = read_radiograph(dicom_copy(tmp_path, **JAPANESE))
    window.image_view.set_radiograph(rad)
    image = render_display(rad)
    dock.set_prediction(Prediction(labels=("covid", "pneumonia", "normal"), probabilities=(0.1, 0.3, 0.6),
                                   model_name="cxnet-densenet121", model_version="1.0.0", elapsed_ms=700.0,
                                   device="CPU", heatmap=edge_energy_map(image)))  # pane input, not a model result
    dock.editors["impression"].setPlainText(
        "No focal consolidation, pleural effusion or pneumothorax. Heart size within normal limits. "
        "Degenerative change of the thoracic spine.")
    dock.reader_edit.setText("Dr. Ørsted-Vanderbilt")
    window.resizeDocks([dock], [dock_width], Qt.Orientation.Horizontal)
    QApplication.processEvents()
    if SHOTS:
        dock.grab().save(os.path.join(SHOTS, f"report_dock_draft_{dock_width}.png"))
    assert _cut_off(dock) == []  # a draft fits
    dock.finalize()
    QApplication.processEvents()
    qtbot.wait(20)
    assert "cxnet-densenet121" in dock.ai_label.text()
    assert "Final" in dock.status_label.text() and dock.final_button.text().startswith("Amend")
    if SHOTS:
        dock.grab().save(os.path.join(SHOTS, f"report_dock_final_{dock_width}.png"))
        dock.widget().widget().grab().save(os.path.join(SHOTS, f"report_body_final_{dock_width}.png"))

    assert dock.width() <= dock_width + 40  # the dock kept about the width it was given
    assert _cut_off(dock) == []
    scroll = dock.widget()
    assert scroll.widget().width() <= scroll.viewport().width()
    inference.shutdown()
    window.loader.shutdown()
