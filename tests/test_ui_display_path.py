"""The display path stays correct where it was made faster: thumbnails from a block-averaged copy,
and a tag tree that is filled only when its dock is shown or read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from ui_support import real_dicom

from cxviewer.imaging import read_radiograph, render_display
from cxviewer.ui.studies.image_entry import THUMBNAIL_SIZE, make_thumbnail, thumbnail_display
from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings


@pytest.mark.parametrize("name", ["RG1_UNCR.dcm", "CR-MONO1-10-chest.dcm", "CR-ModalitySequenceLUT.dcm"])
def test_thumbnail_matches_one_made_from_the_full_display(name):
    rad = read_radiograph(real_dicom(name))
    fast = make_thumbnail(thumbnail_display(rad))
    full = make_thumbnail(render_display(rad))
    assert max(fast.shape) == max(full.shape) == min(THUMBNAIL_SIZE, max(rad.pixels.shape))
    assert abs(fast.shape[0] - full.shape[0]) + abs(fast.shape[1] - full.shape[1]) <= 1  # aspect rounding
    fast = cv2.resize(fast, full.shape[::-1], interpolation=cv2.INTER_AREA)
    diff = np.abs(fast.astype(int) - full.astype(int))
    assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 8  # same picture; edges of steep windows differ


def test_thumbnail_of_an_image_without_window_uses_the_full_range(tmp_path):
    from cxviewer.imaging import Radiograph

    pixels = np.zeros((1000, 800), np.uint16)
    pixels[:, 400:] = 4000
    pixels[0, 0] = 1  # a lone extreme pixel: the range is that of the full-resolution pixels
    rad = Radiograph(path=tmp_path / "synthetic.dcm", pixels=pixels)  # pixels only: no file is read
    thumb = make_thumbnail(thumbnail_display(rad))
    assert thumb[:, : thumb.shape[1] // 2 - 2].max() == 0 and thumb[:, thumb.shape[1] // 2 + 2:].min() == 255


def test_hidden_tag_browser_is_filled_when_shown_or_read(qtbot):
    source = real_dicom("RG1_UNCR.dcm")  # skips before any window exists when ../shared is absent
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        w.open_paths([source])
        qtbot.waitUntil(lambda: w.current_path is not None, timeout=60_000)
        tags = w.tag_browser
        assert tags.visibleRegion().isEmpty()  # a tab behind the study browser, parked off-screen
        assert tags.model.rowCount() == 0  # not built for nobody
        tags.raise_()
        qtbot.waitUntil(lambda: not tags.visibleRegion().isEmpty())
        QApplication.processEvents()
        assert tags.model.rowCount() > 20
        names = [r[1] for r in tags.visible_rows()]
        assert "Patient's Name" in names and "Rows" in names
        w.close_all()
        assert tags.model.rowCount() == 0  # cleared at once
    finally:
        w.loader.shutdown()


def test_search_in_a_hidden_tag_browser_sees_the_current_header(qtbot):
    source = real_dicom("RG1_UNCR.dcm")
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        w.open_paths([source])
        qtbot.waitUntil(lambda: w.current_path is not None, timeout=60_000)
        w.tag_browser.search.setText("(0028,0010)")
        rows = w.tag_browser.visible_rows()
        assert [r[1] for r in rows] == ["Rows"] and rows[0][3] == str(w.image_view.rad.pixels.shape[0])
    finally:
        w.loader.shutdown()


def test_display_goes_to_qt_as_grey_bytes_and_reaches_the_screen_unchanged(qtbot, tmp_path):
    from PySide6.QtGui import QImage
    from ui_support import widget_gray

    from cxviewer.imaging import Radiograph, apply_voi
    from cxviewer.ui.viewer.image_view import ImageView

    ramp = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (64, 1))  # 256 columns, every grey once
    source = tmp_path / "ramp.dcm"  # pixels only: no file is read, so no shared data is needed
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_annotations_visible(False)
    view.set_radiograph(Radiograph(path=source, pixels=ramp))
    view.set_window(2048, 4096)
    view.zoom_1to1()
    QApplication.processEvents()
    view.graphics.viewport().repaint()
    assert view.image_item.qimage.format() == QImage.Format.Format_Grayscale8
    want = apply_voi(ramp, (2048, 4096))[0]
    screen = widget_gray(view.graphics)
    top_left = view.image_to_widget(0, 0)
    row = screen[int(top_left.y()) + 32, int(round(top_left.x())):int(round(top_left.x())) + 256]
    assert np.array_equal(row, want)


@pytest.mark.parametrize("colormap,opacity", [("inferno", 0.45), ("viridis", 1.0), ("CET-R4", 0.2)])
def test_overlay_colours_are_the_colormap_and_alpha_rule(qtbot, colormap, opacity):
    """Each heat level h gets the colour map's entry for h and alpha 255 * opacity * min(2h, 1)."""
    import pyqtgraph as pg

    from cxviewer.ui.ai.heatmap_overlay import HeatmapOverlay

    parent = pg.ItemGroup()  # kept alive: the overlay's item is its child
    overlay = HeatmapOverlay(parent)
    overlay.set_colormap(colormap)
    overlay.set_opacity(opacity)
    heat = np.tile(np.linspace(0.0, 1.0, 1000, dtype=np.float32), (3, 1))
    heat[0, :5] = [-0.5, 1.5, np.float32(0.2), 0.5, 0.9999]  # out-of-range values are clipped
    rgba = overlay._rgba(heat)
    lut = pg.colormap.get(colormap).getLookupTable(0.0, 1.0, 256, alpha=False)
    clipped = np.clip(heat, 0.0, 1.0)
    level = (clipped * 255).astype(np.int64)
    assert rgba.shape == heat.shape + (4,) and rgba.dtype == np.uint8
    assert np.array_equal(rgba[..., :3], lut[level])
    want_alpha = np.clip(clipped * 2.0, 0.0, 1.0) * 255 * opacity
    assert np.max(np.abs(rgba[..., 3].astype(float) - want_alpha)) <= 2.0 * opacity + 1.0
