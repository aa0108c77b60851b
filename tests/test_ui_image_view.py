"""Image view: window/level drag, presets, invert, rotate, flip, zoom, distance, annotations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from dicom_builder import chest_cr
from ui_support import mouse_drag, quadrant_image, real_dicom, send_mouse, widget_gray

from cxviewer.imaging import apply_voi, read_radiograph
from cxviewer.ui.viewer.image_view import WL_DRAG_FULL_RANGE_PX, ImageView
from cxviewer.ui.viewer.presets import AUTO, BONE, LUNG, MEDIASTINUM


@pytest.fixture
def view(qtbot):
    v = ImageView()
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.show()
    qtbot.waitExposed(v)
    return v


def _show(view, rad):
    view.set_radiograph(rad)
    QApplication.processEvents()
    return rad


@pytest.fixture
def synthetic(tmp_path):
    """240 x 160 px, bright top-left quadrant, spacing 0.5 mm (rows) x 0.25 mm (columns)."""
    path = chest_cr(tmp_path / "synthetic.dcm", quadrant_image(),
                       windows=[(2000, 4000, "FULL"), (300, 600, "DARK")])
    return read_radiograph(path)


# ------------------------------------------------------------------ window/level
@pytest.mark.parametrize("button", [Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton])
def test_window_level_drag_changes_centre_and_width_by_expected_amounts(view, synthetic, button):
    _show(view, synthetic)
    c0, w0 = view.window.center, view.window.width
    assert (c0, w0) == (2000.0, 4000.0)  # the first header window
    lo, hi = float(synthetic.pixels.min()), float(synthetic.pixels.max())
    step = (hi - lo) / WL_DRAG_FULL_RANGE_PX  # documented sensitivity: full range per 1000 px
    assert view.wl_step == pytest.approx(step)
    vp = view.graphics.viewport()
    start = QPoint(400, 300)
    mouse_drag(vp, start, start + QPoint(120, -80), button)
    # right = wider; up = lower level (MONOCHROME2: brighter picture)
    assert view.window.width == pytest.approx(w0 + 120 * step)
    assert view.window.center == pytest.approx(c0 - 80 * step)
    assert view.window.name == "Custom"
    # the displayed pixels are exactly apply_voi with the new window
    expected = apply_voi(synthetic.pixels, (view.window.center, view.window.width))
    assert np.array_equal(view.displayed_image(), expected)


def test_vertical_drag_darkens_monochrome1_the_same_way(view, tmp_path):
    rad = read_radiograph(chest_cr(tmp_path / "m1.dcm", quadrant_image(), photometric="MONOCHROME1",
                                      windows=[(2000, 4000, "")]))
    _show(view, rad)
    before = view.displayed_image().mean()
    c0 = view.window.center
    mouse_drag(view.graphics.viewport(), QPoint(400, 200), QPoint(400, 300), Qt.MouseButton.RightButton)
    assert view.window.center == pytest.approx(c0 - 100 * view.wl_step)  # level falls for MONO1 ...
    assert view.displayed_image().mean() < before  # ... so dragging down darkens, as for MONO2


def test_left_drag_pans_and_does_not_touch_the_window(view, synthetic):
    _show(view, synthetic)
    c0, w0 = view.window.center, view.window.width
    before = view.image_to_widget(0, 0)
    mouse_drag(view.graphics.viewport(), QPoint(300, 300), QPoint(360, 340), Qt.MouseButton.LeftButton)
    after = view.image_to_widget(0, 0)
    assert after.x() - before.x() == pytest.approx(60, abs=1)
    assert after.y() - before.y() == pytest.approx(40, abs=1)
    assert (view.window.center, view.window.width) == (c0, w0)


# ------------------------------------------------------------------------ presets
def test_header_presets_and_reset(view, synthetic):
    _show(view, synthetic)
    view.apply_header_preset(1)
    assert (view.window.center, view.window.width, view.window.name) == (300.0, 600.0, "DARK")
    assert np.array_equal(view.displayed_image(), apply_voi(synthetic.pixels, synthetic.voi_presets[1]))
    view.set_window(1234, 567)
    view.reset_window()
    assert (view.window.center, view.window.width) == (2000.0, 4000.0)


def test_builtin_presets_are_brightness_percentiles(view, tmp_path):
    ramp = np.arange(10000, dtype=np.uint16).reshape(100, 100)  # uniform histogram 0..9999
    rad = _show(view, read_radiograph(chest_cr(tmp_path / "ramp.dcm", ramp)))
    view.apply_builtin_preset(LUNG)  # brightness percentiles 2 .. 65
    lo, hi = view.window.center - view.window.width / 2, view.window.center + view.window.width / 2
    assert lo == pytest.approx(200, abs=3) and hi == pytest.approx(6500, abs=3)
    assert np.array_equal(view.displayed_image(), apply_voi(rad.pixels, (view.window.center, view.window.width)))
    # MONOCHROME1: high values are dark, so the lung (dark) window sits at the high values
    rad1 = _show(view, read_radiograph(chest_cr(tmp_path / "ramp1.dcm", ramp, photometric="MONOCHROME1")))
    view.apply_builtin_preset(LUNG)
    lo, hi = view.window.center - view.window.width / 2, view.window.center + view.window.width / 2
    assert lo == pytest.approx(3500, abs=3) and hi == pytest.approx(9800, abs=3)
    assert rad1.photometric == "MONOCHROME1"


def test_builtin_presets_on_a_real_chest_radiograph(view):
    rad = _show(view, read_radiograph(real_dicom("CR-MONO1-10-chest.dcm")))
    ends = {}
    for preset in (LUNG, MEDIASTINUM, BONE, AUTO):
        view.apply_builtin_preset(preset)
        assert view.window.name == preset.name
        ends[preset.name] = (view.window.center - view.window.width / 2, view.window.center + view.window.width / 2)
        assert np.array_equal(view.displayed_image(), apply_voi(rad.pixels, (view.window.center, view.window.width),
                                                                monochrome1=True))
    # MONOCHROME1: brighter structures have lower values. The lung window sits at the dark (high)
    # values; mediastinum and bone reach further into the bright (low) values, bone furthest.
    lung_mid = sum(ends["Lung"]) / 2
    assert lung_mid > sum(ends["Mediastinum"]) / 2 and lung_mid > sum(ends["Bone"]) / 2
    assert ends["Bone"][0] < ends["Mediastinum"][0] < ends["Lung"][0]
    lo, hi = rad.value_range()
    assert lo <= ends["Auto"][0] < ends["Auto"][1] <= hi


# ----------------------------------------------------------------- invert, geometry
def test_invert(view, synthetic):
    _show(view, synthetic)
    before = view.displayed_image().copy()
    view.toggle_invert()
    assert np.array_equal(view.displayed_image(), 255 - before)
    view.toggle_invert()
    assert np.array_equal(view.displayed_image(), before)


def _bright_corner(view) -> str:
    """Where the bright quadrant is on screen, relative to the image's on-screen centre."""
    view.set_annotations_visible(False)
    gray = widget_gray(view.graphics)
    ys, xs = np.nonzero(gray > 200)
    centre = view.image_to_widget(*(s / 2 for s in view.image_size()))
    v = "top" if ys.mean() < centre.y() else "bottom"
    h = "left" if xs.mean() < centre.x() else "right"
    return f"{v}-{h}"


def test_rotate_and_flip_move_the_pixels_on_screen(view, synthetic):
    _show(view, synthetic)
    assert _bright_corner(view) == "top-left"
    view.rotate(clockwise=True)
    QApplication.processEvents()
    assert _bright_corner(view) == "top-right"
    r = view.image_rect_in_view()
    assert (r.width(), r.height()) == pytest.approx((160, 240))  # portrait now
    view.rotate(clockwise=False)
    view.flip_horizontal()
    QApplication.processEvents()
    assert _bright_corner(view) == "top-right"
    view.flip_horizontal()
    view.flip_vertical()
    QApplication.processEvents()
    assert _bright_corner(view) == "bottom-left"
    assert "Flipped" in view.orientation_description()
    view.reset_view()
    QApplication.processEvents()
    assert _bright_corner(view) == "top-left"


def test_flip_acts_on_screen_after_rotation(view, synthetic):
    _show(view, synthetic)
    view.rotate(True)  # bright corner top-right
    view.flip_horizontal()  # mirror what is on screen: back to top-left
    QApplication.processEvents()
    assert _bright_corner(view) == "top-left"


def _image_rect_on_widget(view):
    w, h = view.image_size()
    a, b = view.image_to_widget(0, 0), view.image_to_widget(w, h)
    return min(a.x(), b.x()), min(a.y(), b.y()), abs(b.x() - a.x()), abs(b.y() - a.y())


def test_zoom_to_fit_and_one_to_one(view, synthetic):
    _show(view, synthetic)
    vw, vh = view.graphics.viewport().width(), view.graphics.viewport().height()
    view.zoom_in()
    view.zoom_in()
    x, y, w, h = _image_rect_on_widget(view)
    assert w > vw or h > vh  # zoomed past the window
    view.fit()
    x, y, w, h = _image_rect_on_widget(view)
    assert x >= -1 and y >= -1 and x + w <= vw + 1 and y + h <= vh + 1
    assert w == pytest.approx(vw, abs=2) or h == pytest.approx(vh, abs=2)
    view.zoom_1to1()
    assert view.zoom() == pytest.approx(1.0, rel=1e-3)
    d = view.image_to_widget(100, 0).x() - view.image_to_widget(0, 0).x()
    assert d == pytest.approx(100, abs=0.5)


def test_fit_survives_resize_and_rotation(view, synthetic):
    _show(view, synthetic)
    view.rotate(True)
    view.resize(500, 700)
    QApplication.processEvents()
    vw, vh = view.graphics.viewport().width(), view.graphics.viewport().height()
    x, y, w, h = _image_rect_on_widget(view)
    assert w == pytest.approx(vw, abs=2) or h == pytest.approx(vh, abs=2)


def test_wheel_zooms_around_the_cursor(view, synthetic):
    _show(view, synthetic)
    vp = view.graphics.viewport()
    pos = QPointF(250, 180)
    under = view.scene_to_image(view.graphics.mapToScene(pos.toPoint()))
    z0 = view.zoom()
    ev = QWheelEvent(pos, QPointF(vp.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 240),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                     False)
    QApplication.sendEvent(vp, ev)
    assert view.zoom() > z0 * 1.2
    still = view.image_to_widget(under.x(), under.y())
    assert still.x() == pytest.approx(pos.x(), abs=1) and still.y() == pytest.approx(pos.y(), abs=1)


def test_big_frames_are_shown_downsampled_when_zoomed_out(view):
    rad = _show(view, read_radiograph(real_dicom("RG1_UNCR.dcm")))
    h, w = rad.pixels.shape
    assert view.zoom() < 0.5
    k = view.display_level
    assert k >= 2
    assert view.displayed_image().shape == (math.ceil(h / k), math.ceil(w / k))
    view.zoom_1to1()
    assert view.display_level == 1
    assert np.array_equal(view.displayed_image(), apply_voi(rad.pixels, rad.voi_presets[0], monochrome1=True))


def test_value_under_cursor_comes_from_full_resolution_modality_pixels(view, qtbot):
    rad = _show(view, read_radiograph(real_dicom("RG1_UNCR.dcm")))
    assert view.display_level > 1
    seen = []
    view.cursorMoved.connect(seen.append)
    target = view.image_to_widget(1001.5, 733.5)
    send_mouse(view.graphics.viewport(), QEvent.Type.MouseMove, target, Qt.MouseButton.NoButton,
               Qt.MouseButton.NoButton)
    col, row, value = seen[-1]
    assert abs(col - 1001) <= 1 and abs(row - 733) <= 1
    assert value == rad.pixels[row, col]


# ------------------------------------------------------------------- annotations
def test_corner_annotations_show_patient_window_zoom_orientation(view, synthetic):
    _show(view, synthetic)
    ann = view.annotations
    assert "Synthetic, Test" in ann.text("top_left") and "SYN1" in ann.text("top_left")
    assert "2024-01-31" in ann.text("top_right")
    assert "W 4000  L 2000" in ann.text("bottom_left") and "Zoom" in ann.text("bottom_left")
    assert (ann.text("left"), ann.text("right"), ann.text("top"), ann.text("bottom")) == ("R", "L", "H", "F")
    view.rotate(True)
    assert "Rot 90" in ann.text("bottom_right") and ann.text("bottom") == "L"
    view.set_annotations_visible(False)
    assert not ann.isVisible()
    view.set_annotations_visible(True)
    assert ann.isVisible()
