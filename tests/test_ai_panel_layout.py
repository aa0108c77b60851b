"""The AI panel scrolls instead of squeezing (seen in a screenshot at 1600 x 1000: with the report pane below it, the
panel's checkboxes, opacity slider and colour legend were laid over each other and the scope text cut short)."""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea, QWidget

from cxviewer.model import Prediction
from cxviewer.settings import Settings
from cxviewer.ui.app import build_main_window


def _overlaps(panel) -> list[str]:
    """Pairs of visible widgets of the panel whose rectangles intersect (children of one another excepted)."""
    shown = [w for w in panel.findChildren(QWidget) if w.isVisible() and w.parentWidget() is panel]
    out = []
    for a, b in itertools.combinations(shown, 2):
        if a.geometry().intersects(b.geometry()):
            out.append(f"{type(a).__name__} {a.geometry().getRect()} / {type(b).__name__} {b.geometry().getRect()}")
    return out


import pytest


@pytest.mark.parametrize(("probabilities", "call"), [((0.008, 0.951, 0.041), "pneumonia"),
                                                     ((0.398, 0.371, 0.231), "uncertain")], ids=["called", "uncertain"])
def test_panel_in_a_short_dock_scrolls_and_nothing_overlaps(qtbot, probabilities, call):
    window, inference = build_main_window(Settings.load())
    try:
        qtbot.addWidget(window)
        window.resize(1300, 620)  # a short screen: the report pane below takes half of the right column
        window.show()
        qtbot.waitExposed(window)
        dock = window.findChild(QDockWidget, "aiDock")
        scroll = dock.widget()
        assert isinstance(scroll, QScrollArea)
        panel = scroll.widget()
        panel.show_prediction(Prediction(labels=("covid", "pneumonia", "normal"), probabilities=probabilities,
                                         model_name="cxnet-densenet121-v3", model_version="3.1.0", elapsed_ms=48.0,
                                         device="CPU", call=call))  # panel input, not a model result
        QApplication.processEvents()
        assert _overlaps(panel) == []
        right = scroll.viewport().width()
        cut = [f"{type(w).__name__} {w.geometry().getRect()}" for w in panel.findChildren(QWidget)
               if w.isVisible() and w.parentWidget() is panel and w.geometry().right() > right]
        assert cut == []  # nothing reaches past the visible width (the percentages sit at the right edge)
        assert panel.height() >= panel.minimumSizeHint().height()
        window.resizeDocks([dock], [180], Qt.Orientation.Vertical)  # shorter than the panel: it must scroll
        QApplication.processEvents()
        assert scroll.viewport().height() < panel.minimumSizeHint().height()
        assert scroll.verticalScrollBar().maximum() > 0 and _overlaps(panel) == []
    finally:  # the worker may be loading the model (the start-up preload): stop it, or it outlives the run
        inference.shutdown()
        window.loader.shutdown()


def test_class_names_inside_the_uncertain_headline_keep_acronyms():
    from cxviewer.ui.ai.panel import in_sentence

    assert in_sentence("Other pneumonia") == "other pneumonia" and in_sentence("Normal") == "normal"
    assert in_sentence("COVID-19") == "COVID-19"
