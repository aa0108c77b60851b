"""The active viewport in 1x2 / 2x2 layouts: the one last clicked is outlined, the keyboard's view
actions (zoom, rotate, flips, presets, invert, header windows, reset) act on it, the status bar's
window and zoom read it, and linking carries its window and zoom to the others. Synthetic CR films
with known windows."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from dicom_builder import chest_cr
from ui_support import quadrant_image

from cxviewer.ui.annotate.tools import install_annotation_tools
from cxviewer.ui.viewer.layouts import ACTIVE_BORDER, GRID_BACKGROUND, install_layouts
from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings


@pytest.fixture
def window(qtbot):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    install_layouts(w, install_annotation_tools(w))
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.loader.shutdown()


@pytest.fixture
def two_films(qtbot, window, tmp_path):
    """2x2 layout, film A (windows 2000/4000, 1000/600) in viewport 1 and film B (one window) in viewport 2."""
    a = chest_cr(tmp_path / "a.dcm", quadrant_image(400, 600), windows=[(2000, 4000, "WIDE"), (1000, 600, "NARROW")])
    b = chest_cr(tmp_path / "b.dcm", quadrant_image(200, 300), windows=[(1500, 3000, "ONLY")], patient_id="SYN2")
    window.open_paths([a, b])
    qtbot.waitUntil(lambda: not window.loader.busy() and not window._batches and window.image_view.rad is not None,
                    timeout=60_000)
    grid = window.viewports
    grid.set_layout("2x2")
    main, other = grid.visible_views()[:2]
    grid.show_in(main, a)
    grid.show_in(other, b)
    qtbot.waitUntil(lambda: other.rad is not None and main.rad is not None, timeout=30_000)
    QApplication.processEvents()
    return main, other


def _click(qtbot, view) -> None:
    qtbot.mouseClick(view.graphics.viewport(), Qt.MouseButton.LeftButton, pos=view.graphics.viewport().rect().center())
    QApplication.processEvents()


def _key(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.active_view.graphics, key, modifier)
    QApplication.processEvents()


def _state(view):
    return (view.window.center, view.window.width, view.inverted, view.orientation.tolist(), round(view.zoom(), 4))


def test_a_click_makes_a_viewport_active_and_outlines_it(qtbot, window, two_films):
    main, other = two_films
    grid = window.viewports
    assert window.active_view is main
    _click(qtbot, other)
    assert window.active_view is other
    image = grid.grab().toImage()
    g = other.geometry()
    # the pixel just outside viewport 2 is the highlight; the one just outside viewport 1 is the gap
    assert image.pixelColor(g.left() - 1, g.center().y()) == ACTIVE_BORDER
    assert image.pixelColor(g.center().x(), g.top() - 1) == ACTIVE_BORDER
    m = main.geometry()
    assert image.pixelColor(m.left() - 1, m.center().y()) == GRID_BACKGROUND
    _click(qtbot, main)
    image = grid.grab().toImage()
    assert image.pixelColor(m.left() - 1, m.center().y()) == ACTIVE_BORDER
    assert image.pixelColor(g.left() - 1, g.center().y()) != ACTIVE_BORDER
    grid.set_layout("1x1")  # one viewport: no frame, and the only one is active
    QApplication.processEvents()
    assert window.active_view is main and grid.grid.contentsMargins().left() == 0


def test_keyboard_view_actions_act_on_the_active_viewport_only(qtbot, window, two_films):
    main, other = two_films
    _click(qtbot, other)
    before_main = _state(main)
    z0 = other.zoom()
    _key(qtbot, window, Qt.Key.Key_Plus)
    assert other.zoom() == pytest.approx(z0 * 1.25, rel=0.02)
    _key(qtbot, window, Qt.Key.Key_R)
    assert "Rot 90" in other.orientation_description()
    _key(qtbot, window, Qt.Key.Key_H)
    _key(qtbot, window, Qt.Key.Key_V)
    shown = other.displayed_image().copy()
    _key(qtbot, window, Qt.Key.Key_I)
    assert other.inverted and np.array_equal(other.displayed_image(), 255 - shown)
    assert "Inverted" in other.annotations.text("bottom_left") + other.annotations.text("bottom_right")
    _key(qtbot, window, Qt.Key.Key_L)  # the chest preset
    assert other.window.name == "Lung"
    _key(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # header window 1 of film B
    assert (other.window.center, other.window.width) == (1500, 3000)
    assert _state(main) == before_main  # viewport 1 untouched by all of it
    assert not any("Inverted" in main.annotations.text(k) for k in ("bottom_left", "bottom_right"))
    # the Window menu lists the active film's header windows (B has one, A two)
    window._fill_window_menu()
    assert [a.isVisible() for a in window._header_preset_actions[:2]] == [True, False]
    # the status bar reads the active viewport
    other.set_window(1234, 567)
    assert window.status.window_label.text() == "W 567  L 1234"
    assert window.status.zoom_label.text() == f"Zoom {other.zoom() * 100:.0f}%"
    main.set_window(2222, 3333)  # a change in an inactive viewport does not take the readout
    assert window.status.window_label.text() == "W 567  L 1234"
    _key(qtbot, window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)  # reset view
    assert not other.inverted and other.orientation_description() == main.orientation_description()
    assert (other.window.center, other.window.width) == (1500, 3000)
    _click(qtbot, main)  # back to viewport 1: its readouts, its header windows
    assert window.status.window_label.text() == "W 3333  L 2222"
    window._fill_window_menu()
    assert [a.isVisible() for a in window._header_preset_actions[:2]] == [True, True]
    _key(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert (main.window.center, main.window.width) == (2000, 4000)


def test_linked_viewports_follow_the_active_one(qtbot, window, two_films):
    main, other = two_films
    _click(qtbot, other)
    window.actions_by_name["link_views"].trigger()  # linking starts from the active viewport's window
    assert (main.window.center, main.window.width) == (other.window.center, other.window.width) == (1500, 3000)
    _key(qtbot, window, Qt.Key.Key_Plus)
    _key(qtbot, window, Qt.Key.Key_Plus)
    assert main.zoom() == pytest.approx(other.zoom(), rel=0.02)
    _key(qtbot, window, Qt.Key.Key_L)
    assert (main.window.center, main.window.width) == (other.window.center, other.window.width)
    _key(qtbot, window, Qt.Key.Key_I)  # invert is not linked: window, zoom and pan are
    assert other.inverted and not main.inverted
    _key(qtbot, window, Qt.Key.Key_F)  # fitted stays fitted in every viewport
    assert main._fit_mode and other._fit_mode


def test_each_viewport_says_where_its_film_sits_in_its_series(qtbot, window, tmp_path):
    films = [chest_cr(tmp_path / f"s{i}.dcm", quadrant_image(200, 300), instance=i, series_uid="1.2.826.0.1.99.1",
                      study_uid="1.2.826.0.1.99") for i in (1, 2, 3)]
    window.open_paths(films)
    qtbot.waitUntil(lambda: not window.loader.busy() and not window._batches and window.image_view.rad is not None,
                    timeout=60_000)
    grid = window.viewports
    grid.set_layout("1x2")
    main, other = grid.visible_views()
    grid.show_in(other, films[2])
    qtbot.waitUntil(lambda: other.rad is not None, timeout=30_000)
    QApplication.processEvents()
    assert "Im 1/3" in main.annotations.text("top_right")
    assert "Im 3/3" in other.annotations.text("top_right")  # viewport 2 too, not only the main view
    # PgUp / PgDown page through the active viewport's series, there
    _click(qtbot, other)
    qtbot.keyClick(other.graphics, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: other.rad is not None and other.rad.path == films[1], timeout=30_000)
    QApplication.processEvents()
    assert "Im 2/3" in other.annotations.text("top_right")
    assert main.rad.path == films[0] and "Im 1/3" in main.annotations.text("top_right")
    _click(qtbot, main)
    qtbot.keyClick(main.graphics, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: main.rad.path == films[1], timeout=30_000)
    assert other.rad.path == films[1]
