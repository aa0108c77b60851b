"""The lung outline overlay: drawn on the mask's edge whatever the rotation and flips; toggled from the AI menu."""

import numpy as np
import pytest

from test_ui_heatmap_overlay import _centroid, _grab, shown_in_a_view


@pytest.fixture
def view_with_outline(qtbot, tmp_path):
    from cxviewer.ui.ai.lung_outline import LungOutline

    img = np.full((300, 500), 20, np.uint8)
    view = shown_in_a_view(img, tmp_path, qtbot)
    outline = LungOutline(view.overlay_parent())
    mask = np.zeros(img.shape, np.uint8)
    mask[40:120, 330:450] = 1  # an off-centre "lung"
    outline.set_mask(mask)
    return view, outline


def _cyan(arr):
    r, g, b = (arr[..., i].astype(int) for i in range(3))
    return (b > 150) & (g > 120) & (r < 120)


@pytest.mark.parametrize("ops", [(), ("rotate",), ("rotate", "flip_h"), ("flip_v",)])
def test_outline_sits_on_the_mask_edge_after_rotation_and_flips(qtbot, view_with_outline, ops):
    view, outline = view_with_outline
    for op in ops:
        {"rotate": view.rotate, "flip_h": view.flip_horizontal, "flip_v": view.flip_vertical}[op]()
    view.fit()
    outline.set_visible(True)
    drawn = _cyan(_grab(view, qtbot))
    # the same rectangle drawn as bright pixels, through the same view: where the outline must be
    from cxviewer.ui.ai.heatmap_overlay import HeatmapOverlay

    outline.set_visible(False)
    heat = HeatmapOverlay(view.overlay_parent())
    heat.set_colormap("viridis")
    heat.set_opacity(1.0)
    heat.set_heatmap(outline.mask.astype(np.float32))
    heat.set_visible(True)
    filled = _grab(view, qtbot).sum(axis=2) > 200
    _centroid(drawn), _centroid(filled)  # both are on screen
    ys, xs = np.nonzero(filled)
    # the outline hugs the filled area's edge: its bounding box matches within two screen pixels
    dys, dxs = np.nonzero(drawn)
    for a, b in ((dys.min(), ys.min()), (dys.max(), ys.max()), (dxs.min(), xs.min()), (dxs.max(), xs.max())):
        assert abs(int(a) - int(b)) <= 2


def test_outline_toggle_and_clear(view_with_outline):
    view, outline = view_with_outline
    outline.set_visible(True)
    assert outline.visible
    x, y = outline.path_points()
    assert x.min() >= 330 and x.max() <= 451 and y.min() >= 40 and y.max() <= 121
    outline.set_visible(False)
    assert not outline.visible
    outline.set_visible(True)
    outline.set_mask(None)
    assert not outline.visible and outline.mask is None


def test_window_draws_the_segmenters_outline_and_o_toggles_it(qtbot, dicom_dir):
    from PySide6.QtCore import Qt

    from cxviewer.model import available_models
    from cxviewer.ui.ai.controller import install_ai_panel
    from cxviewer.ui.main_window import MainWindow

    if not (available_models() and available_models("segmentation")):
        pytest.skip("needs a bundled classifier and lung segmenter")
    window = MainWindow()
    qtbot.addWidget(window)
    ai = install_ai_panel(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        with qtbot.waitSignal(ai.service.result, timeout=600_000):
            window.open_paths([str(dicom_dir / "CR-MONO1-10-chest.dcm")])
        qtbot.waitUntil(lambda: ai.outline.mask is not None, timeout=5000)
        rad = window.image_view.rad
        assert ai.outline.mask.shape == rad.pixels.shape
        assert not ai.outline.visible  # off until asked for
        qtbot.keyClick(window, Qt.Key.Key_O)
        assert ai.outline.visible and ai.panel.outline_box.isChecked() and ai.outline_action.isChecked()
        x, y = ai.outline.path_points()
        h, w = rad.pixels.shape
        assert len(x) > 20 and 0 <= x.min() and x.max() <= w + 1 and 0 <= y.min() and y.max() <= h + 1
        assert window.settings["overlay"]["lung_outline_visible"] is True
        ai.panel.outline_box.setChecked(False)
        assert not ai.outline.visible and not ai.outline_action.isChecked()
    finally:
        ai.service.shutdown()
