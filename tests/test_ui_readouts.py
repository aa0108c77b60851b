"""Readouts belong to the film on screen (issue 19 items 1-2): an unreadable file clears the view and
every readout of the previous film; a new film starts without the last film's cursor position; no
zoom is shown before there is an image."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication
from dicom_builder import chest_cr
from ui_support import real_dicom, send_mouse, widget_gray

from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings

SHOTS = os.environ.get("CXVIEWER_SCREENSHOTS")  # a folder: save what the reader sees, to look at


@pytest.fixture
def window(qtbot):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.loader.shutdown()


def _wait_loaded(qtbot, w):
    qtbot.waitUntil(lambda: not w.loader.busy() and not w._batches, timeout=120_000)
    QApplication.processEvents()


def _hover_centre(w) -> None:
    viewport = w.image_view.graphics.viewport()
    send_mouse(viewport, QEvent.Type.MouseMove, QPointF(viewport.rect().center()), Qt.MouseButton.NoButton,
               Qt.MouseButton.NoButton)
    QApplication.processEvents()


def _readouts(w) -> dict[str, str]:
    s = w.status
    return {"xy": s.position_label.text(), "value": s.value_label.text(), "window": s.window_label.text(),
            "zoom": s.zoom_label.text()}


def test_no_zoom_or_window_readout_before_any_image(qtbot, window):
    window.resize(1300, 850)  # the view box reports a new range on resize
    qtbot.wait(50)
    _hover_centre(window)
    assert _readouts(window) == {"xy": "", "value": "", "window": "", "zoom": ""}


def test_unreadable_file_clears_the_previous_film_and_every_readout(qtbot, window, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(real_dicom("RG1_UNCR.dcm"), folder / "RG1_UNCR.dcm")
    shutil.copy(real_dicom("RG2_JPLY.dcm"), folder / "RG2_JPLY.dcm")  # no decoder accepts it
    window.open_paths([folder / "RG1_UNCR.dcm", folder / "RG2_JPLY.dcm"])
    _wait_loaded(qtbot, window)
    _hover_centre(window)
    before = _readouts(window)
    assert before["xy"].startswith("x ") and before["value"] and before["window"] and before["zoom"]
    assert window.image_view.annotations.text("top_left")  # the patient's name in the corner

    index = window.study_browser.model.index_for_path(folder / "RG2_JPLY.dcm")
    window.study_browser.view.setCurrentIndex(index)
    QApplication.processEvents()
    assert window.image_view.rad is None
    assert _readouts(window) == {"xy": "", "value": "", "window": "", "zoom": ""}
    assert all(not window.image_view.annotations.text(k) for k in window.image_view.annotations.labels)
    assert window.tag_browser.visible_rows() == []  # no header of the previous film
    message = window.status.currentMessage()
    assert message.count("RG2_JPLY.dcm") == 1, message  # the name once, not "RG2_JPLY.dcm: RG2_JPLY.dcm: ..."
    assert window.windowTitle() == "CXViewer"
    # nothing of the previous film is drawn around the error text: only the text itself is bright
    gray = widget_gray(window.image_view.graphics)
    if SHOTS:
        window.grab().save(os.path.join(SHOTS, "unreadable_after_film.png"))
    text_box = window.image_view.message.geometry()
    outside = np.ones(gray.shape, bool)
    outside[text_box.top():text_box.bottom() + 1, text_box.left():text_box.right() + 1] = False
    ys, xs = np.nonzero(outside & (gray >= 30))
    assert gray[outside].max() < 30, (text_box, list(zip(ys[:5], xs[:5])), gray.shape)
    _hover_centre(window)
    assert _readouts(window)["xy"] == ""


def test_a_small_film_never_shows_the_last_films_cursor_position(qtbot, window, tmp_path):
    big = tmp_path / "big.dcm"
    shutil.copy(real_dicom("RG1_UNCR.dcm"), big)
    small = chest_cr(tmp_path / "small.dcm", np.arange(256, dtype=np.uint16).reshape(16, 16) * 10)
    window.open_paths([big, small])
    _wait_loaded(qtbot, window)
    window.show_image(big)
    _hover_centre(window)
    x, y = (int(t) for t in window.status.position_label.text().split()[1::2])
    assert x > 16 and y > 16  # a position only the large film has
    window.show_image(small)  # chosen from the browser or with PgDown: the cursor has not moved
    QApplication.processEvents()
    assert window.status.position_label.text() == "" and window.status.value_label.text() == ""
    # the small film may come from a read in flight (a loaded machine): hover once it is on screen
    qtbot.waitUntil(lambda: window.image_view.rad is not None and window.image_view.rad.pixels.shape == (16, 16),
                    timeout=15000)

    def hovered() -> bool:  # pyqtgraph may drop a move event at the very spot of the last one: move until read
        _hover_centre(window)
        return bool(window.status.position_label.text())

    qtbot.waitUntil(hovered, timeout=5000)
    x, y = (int(t) for t in window.status.position_label.text().split()[1::2])
    assert 0 <= x < 16 and 0 <= y < 16
    assert window.status.zoom_label.text().startswith("Zoom ")
