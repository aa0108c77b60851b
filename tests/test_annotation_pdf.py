"""Annotations in the report's PDF image: the layer is drawn where the annotations are (rotation
included), and an exported PDF's radiograph carries them (read back from the PDF)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from pdf_readback import read_images
from dicom_builder import chest_cr

from cxviewer.annotate.model import Annotation
from cxviewer.imaging import read_radiograph
from cxviewer.report.annotation_overlay import with_annotations
from cxviewer.imaging import orientation as vo
from cxviewer.ui.annotate.report_layer import render_annotation_layer
from cxviewer.ui.annotate.tools import install_annotation_tools
from cxviewer.ui.main_window import MainWindow
from cxviewer.ui.report.install import install_report_dock
from cxviewer.settings import Settings

LINE = Annotation("distance", ((100.0, 50.0), (300.0, 50.0)))  # a horizontal line at row 50


def test_layer_draws_the_line_where_it_is_and_follows_rotation(qapp):
    layer = render_annotation_layer((400, 200), [LINE], {})
    assert layer.shape == (200, 400, 4)
    alpha = layer[..., 3]
    assert alpha[49:51, 150:250].max(axis=0).min() > 200  # on the line (it straddles rows 49 and 50)
    assert alpha[150, :].max() == 0  # far from it: transparent
    rotated = render_annotation_layer((400, 200), [LINE], {}, vo.ROTATE_CW @ vo.IDENTITY)
    assert rotated.shape == (400, 200, 4)  # a quarter turn swaps the sides
    # clockwise: row 50 from the top becomes column 200 - 1 - 50 from the left
    assert rotated[150:250, 149:151, 3].max(axis=1).min() > 200 and rotated[150:250, 50, 3].max() == 0


def test_layer_labels_and_blend(qapp):  # fonts need the application
    layer = render_annotation_layer((400, 200), [LINE], {LINE.uid: "50.0 mm at detector"})
    grey = np.full((200, 400), 30, np.uint8)
    out = with_annotations(grey, layer)
    assert out.shape == (200, 400, 3)
    yellow = (out[..., 0] > 200) & (out[..., 1] > 180) & (out[..., 2] < 90)
    assert yellow[49:51, 150:250].any(axis=0).all()
    assert yellow.sum() > yellow[45:56, :].sum()  # the label's text is drawn beside the line too
    assert with_annotations(grey, None) is grey
    with pytest.raises(ValueError):
        with_annotations(grey, np.zeros((2, 2, 3), np.uint8))


def test_exported_pdf_image_carries_the_annotations(qtbot, tmp_path):
    pixels = np.full((600, 800), 500, np.uint16)
    film = chest_cr(tmp_path / "film.dcm", pixels, windows=[(2000, 4000, "W")])
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    dock = install_report_dock(w)
    tools = install_annotation_tools(w, report_dock=dock)
    w.show()
    qtbot.waitExposed(w)
    w.open_paths([film])
    qtbot.waitUntil(lambda: w.image_view.rad is not None and dock.rad is not None, timeout=60_000)
    plain = dock.export_pdf(tmp_path / "plain.pdf")
    tools.main.add(Annotation("ellipse", ((200.0, 150.0), (600.0, 450.0))))
    marked = dock.export_pdf(tmp_path / "marked.pdf")
    QApplication.processEvents()
    w.close()
    w.loader.shutdown()

    def radiograph(path):
        images = [im for im in read_images(path) if im.width >= 400]
        return max(images, key=lambda im: im.width * im.height).pixels

    before, after = radiograph(plain), radiograph(marked)
    assert before.ndim == 2 or np.ptp(before.astype(int), axis=2).max() < 10  # grey only
    assert after.ndim == 3
    r, g, b = (after[..., i].astype(int) for i in range(3))
    yellow = (r > 180) & (g > 150) & (b < 100)
    h, wd = yellow.shape
    # the ellipse's left and right ends (columns 200 and 600 of 800, row 300 of 600)
    assert yellow[int(h * 0.48):int(h * 0.52), int(wd * 0.24):int(wd * 0.26)].any()
    assert yellow[int(h * 0.48):int(h * 0.52), int(wd * 0.74):int(wd * 0.76)].any()
    assert not yellow[int(h * 0.45):int(h * 0.55), int(wd * 0.45):int(wd * 0.55)].any()  # inside: no paint
