"""The Grad-CAM overlay sits exactly on the pixels it belongs to, whatever the rotation and flips."""

import cv2
import numpy as np
import pytest


def shown_in_a_view(img, tmp_path, qtbot):
    """An ImageView on screen showing ``img`` (written as a PNG and read back), corner text off."""
    from cxviewer.imaging import read_radiograph
    from cxviewer.ui.viewer.image_view import ImageView

    path = tmp_path / "film.png"
    cv2.imwrite(str(path), img)
    view = ImageView()
    view.resize(520, 520)
    view.show()
    qtbot.addWidget(view)
    qtbot.waitExposed(view)
    view.set_radiograph(read_radiograph(path))
    view.set_annotations_visible(False)  # corner text would count as bright pixels
    return view


@pytest.fixture
def view_with_marker(qtbot, tmp_path):
    from cxviewer.ui.ai.heatmap_overlay import HeatmapOverlay

    img = np.full((300, 500), 20, np.uint8)  # non-square on purpose
    img[40:90, 360:440] = 250  # a bright marker off-centre
    view = shown_in_a_view(img, tmp_path, qtbot)
    overlay = HeatmapOverlay(view.overlay_parent())
    heat = np.zeros(img.shape, np.float32)
    heat[40:90, 360:440] = 1.0
    overlay.set_heatmap(heat)
    return view, overlay


def _grab(view, qtbot):
    qtbot.wait(50)
    image = view.graphics.grab().toImage().convertToFormat(view.graphics.grab().toImage().Format.Format_RGB888)
    ptr = image.constBits()
    arr = np.frombuffer(ptr, np.uint8, image.bytesPerLine() * image.height()).reshape(image.height(), image.bytesPerLine())
    return arr[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def _centroid(mask):
    ys, xs = np.nonzero(mask)
    assert len(ys) > 20
    return ys.mean(), xs.mean()


@pytest.mark.parametrize("ops", [(), ("rotate",), ("rotate", "flip_h"), ("flip_v",), ("rotate", "rotate", "rotate", "flip_h")])
def test_overlay_follows_rotation_and_flips(qtbot, view_with_marker, ops):
    view, overlay = view_with_marker
    for op in ops:
        {"rotate": view.rotate, "flip_h": view.flip_horizontal, "flip_v": view.flip_vertical}[op]()
    view.fit()
    overlay.set_visible(False)
    plain = _grab(view, qtbot)
    marker = _centroid(plain.mean(axis=2) > 200)
    overlay.set_colormap("viridis")
    overlay.set_opacity(1.0)
    overlay.set_visible(True)
    tinted = _grab(view, qtbot)
    changed = np.abs(tinted.astype(int) - plain.astype(int)).sum(axis=2) > 60
    heat_centre = _centroid(changed)
    assert abs(marker[0] - heat_centre[0]) < 3 and abs(marker[1] - heat_centre[1]) < 3
    assert overlay.visible


def test_overlay_toggle_and_clear(qtbot, view_with_marker):
    view, overlay = view_with_marker
    overlay.set_visible(True)
    assert overlay.visible
    overlay.set_heatmap(None)
    assert not overlay.visible and overlay.heatmap is None
