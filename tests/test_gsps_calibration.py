"""The reader's calibration travels with a GSPS export as the Displayed Area Selection's Presentation
Pixel Spacing (PS3.3 C.10.4, the spacing to measure with); importing such a state into a fresh
session calibrates the film (one undoable step with its annotations); a state without one leaves the
film's calibration as it was. On a real CR hip film (Pixel Spacing 0.2 mm)."""

from __future__ import annotations

import pydicom
import pytest
from PySide6.QtWidgets import QApplication
from ui_support import real_dicom

from cxviewer.annotate import gsps
from cxviewer.annotate.model import Annotation
from cxviewer.imaging.spacing import DETECTOR, USER, MeasurementScale, presentation_calibration
from cxviewer.ui.annotate.tools import install_annotation_tools
from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings

FILM = "RG2_JPLL.dcm"  # 1760 x 2140, Pixel Spacing 0.2 mm at the detector
LINE = Annotation("distance", ((100.0, 100.0), (1013.0, 100.0)))  # 913 px = 182.6 mm at detector


def _window(qtbot, monkeypatch, home, folder=None, file=None):
    monkeypatch.setenv("CXVIEWER_HOME", str(home))  # each session its own annotation store
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    tools = install_annotation_tools(w)
    if folder is not None:
        w.presentation_states.choose_folder = lambda: str(folder)
    if file is not None:
        w.presentation_states.choose_file = lambda: str(file)
    w.show()
    qtbot.waitExposed(w)
    w.open_paths([real_dicom(FILM)])
    qtbot.waitUntil(lambda: w.image_view.rad is not None and not w.loader.busy(), timeout=60_000)
    QApplication.processEvents()
    return w, tools.main


def _close(w):
    w.close()
    w.loader.shutdown()


def test_calibration_goes_out_as_presentation_pixel_spacing_and_comes_back(qtbot, monkeypatch, tmp_path):
    w, c = _window(qtbot, monkeypatch, tmp_path / "home1", folder=tmp_path / "out")
    c.add(LINE)
    assert c.graphics[LINE.uid].text() == "182.6 mm at detector"
    c.calibrate(LINE.points[0], LINE.points[1], 150.0)  # the reader: this line is 150 mm
    assert c.graphics[LINE.uid].text() == "150.0 mm calibrated"
    path = w.presentation_states.export()
    _close(w)

    ds = pydicom.dcmread(path)
    area = ds.DisplayedAreaSelectionSequence[0]
    expected = 0.2 * 150.0 / 182.6
    assert [float(v) for v in area.PresentationPixelSpacing] == pytest.approx([expected, expected], rel=1e-6)
    assert "PresentationPixelAspectRatio" not in area  # exclusive with the spacing (C.10.4)
    assert area.PresentationSizeMode == "SCALE TO FIT"
    element = area["PresentationPixelSpacing"]
    assert element.tag == 0x00700101 and element.VR == "DS" and all(len(str(v)) <= 16 for v in element.value)
    sop = str(pydicom.dcmread(real_dicom(FILM), stop_before_pixels=True).SOPInstanceUID)
    assert gsps.read_pixel_spacing(ds, sop) == pytest.approx((expected, expected), rel=1e-6)
    assert gsps.read_pixel_spacing(ds, "1.2.3.4") == pytest.approx((expected, expected))  # no refs: all films

    # a fresh session: the state brings the annotation and the calibration
    w2, c2 = _window(qtbot, monkeypatch, tmp_path / "home2", file=path)
    assert c2.doc.annotations == [] and c2.doc.calibration is None
    assert w2.presentation_states.import_file() == 1
    assert c2.graphics[LINE.uid].text() == "150.0 mm calibrated"
    scale = w2.image_view.measurement_scale()
    assert scale.kind == USER and path.name in scale.explanation
    assert "calibrated to" in w2.status.currentMessage()
    c2.undo_stack.undo()  # annotations and calibration came in one step
    assert c2.doc.annotations == [] and c2.doc.calibration is None
    c2.undo_stack.redo()
    assert c2.doc.calibration is not None
    assert w2.presentation_states.import_file() == 0  # again: nothing new, the same calibration
    assert c2.undo_stack.count() == 1
    _close(w2)


def test_a_state_without_a_spacing_keeps_the_films_calibration(qtbot, monkeypatch, tmp_path):
    w, c = _window(qtbot, monkeypatch, tmp_path / "home1", folder=tmp_path / "out")
    c.add(LINE)
    path = w.presentation_states.export()  # no calibration: the aspect ratio, no spacing
    _close(w)
    ds = pydicom.dcmread(path)
    assert "PresentationPixelSpacing" not in ds.DisplayedAreaSelectionSequence[0]
    assert gsps.read_pixel_spacing(ds, "any") is None

    w2, c2 = _window(qtbot, monkeypatch, tmp_path / "home2", file=path)
    c2.calibrate(LINE.points[0], LINE.points[1], 100.0)  # this reader's own calibration
    assert w2.presentation_states.import_file() == 1
    assert c2.graphics[LINE.uid].text() == "100.0 mm calibrated"  # kept, not reset to the detector's
    assert c2.doc.calibration.kind == USER
    _close(w2)


def test_a_spacing_that_repeats_the_films_own_is_no_calibration():
    base = MeasurementScale(0.2, 0.2, DETECTOR, "Pixel Spacing 0.2\\0.2 mm")
    assert presentation_calibration(base, (0.2, 0.2), "x.dcm") is None
    assert presentation_calibration(base, (0.0, 0.2), "x.dcm") is None
    cal = presentation_calibration(base, (0.16, 0.16), "x.dcm")
    assert (cal.row_mm, cal.col_mm, cal.kind, cal.unit_label) == (0.16, 0.16, USER, "mm calibrated")
    pixels_only = MeasurementScale(None, None, "pixels", "")
    assert presentation_calibration(pixels_only, (0.1, 0.1), "x.dcm").in_mm


def test_an_roi_area_says_what_it_measures_like_a_length():
    """mm² at detector, calibrated or magnification-corrected, as the lengths beside it say."""
    import numpy as np

    from cxviewer.annotate.model import Annotation
    from cxviewer.annotate.values import label
    from cxviewer.imaging.spacing import CALIBRATED, MAGNIFICATION

    pixels = np.full((40, 40), 7, np.uint16)
    roi = Annotation("ellipse", ((5.0, 5.0), (25.0, 25.0)))
    for kind, words in ((DETECTOR, "at detector"), (CALIBRATED, "calibrated"), (MAGNIFICATION, "magnification-corrected")):
        text = label(roi, MeasurementScale(0.2, 0.2, kind, ""), pixels)
        assert text.splitlines()[-1].endswith(f"mm\N{SUPERSCRIPT TWO} {words}"), text
    assert label(roi, MeasurementScale(None, None, "pixels", ""), pixels).endswith("px\N{SUPERSCRIPT TWO}")


def test_roi_statistics_leave_pixel_padding_out():
    import numpy as np

    from cxviewer.annotate.model import Annotation
    from cxviewer.annotate.values import roi_stats

    pixels = np.full((40, 40), 100, np.uint16)
    pixels[:, :20] = 0  # the left half is padding
    roi = Annotation("ellipse", ((5.0, 5.0), (35.0, 35.0)))
    assert roi_stats(pixels, roi).minimum == 0
    stats = roi_stats(pixels, roi, padding=(0.0, 0.0))
    assert (stats.minimum, stats.maximum, stats.mean) == (100, 100, 100)
    assert roi_stats(np.zeros((40, 40), np.uint16), roi, padding=(0.0, 0.0)) is None  # all padding: no pixels
