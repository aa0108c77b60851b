"""Corner text (issue 19 item 5): a dark plate keeps it readable on a bright film, and it carries the
matrix size, pixel spacing, acquisition time and the invert state."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from dicom_builder import chest_cr
from ui_support import real_dicom, widget_gray

from cxviewer.imaging import read_radiograph
from cxviewer.ui.viewer.image_view import ImageView

SHOTS = os.environ.get("CXVIEWER_SCREENSHOTS")


@pytest.fixture
def view(qtbot):
    v = ImageView()
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_matrix_spacing_acquisition_time_and_invert_state(view):
    rad = read_radiograph(real_dicom("RG2_RLE.dcm"))  # 1760 x 2140, 0.2 mm, acquired 1997-03-14 09:13
    view.set_radiograph(rad)
    ann = view.annotations
    assert "1760 x 2140 px, 0.2 x 0.2 mm at detector" in ann.text("bottom_right")
    assert "Acq 1997-03-14 09:13" in ann.text("top_right")
    assert "Inverted" not in ann.text("bottom_left")
    view.toggle_invert()
    assert "Inverted" in ann.text("bottom_left")
    view.toggle_invert()
    assert "Inverted" not in ann.text("bottom_left")


def test_same_day_acquisition_shows_the_time_and_no_spacing_when_the_file_has_none(view):
    rad = read_radiograph(real_dicom("CR_tiny_2.dcm"))  # acquired 00:00:09 on the study day: the time only
    view.set_radiograph(rad)
    assert "Acq 00:00" in view.annotations.text("top_right")
    assert "16 x 16 px, 0.1 x 0.1 mm at detector" in view.annotations.text("bottom_right")
    rad = read_radiograph(real_dicom("RG1_UNCR.dcm"))  # no pixel spacing, content time only
    view.set_radiograph(rad)
    assert view.annotations.text("bottom_right").endswith("1841 x 1955 px")
    assert "Acq 1995-09-26 12:51" in view.annotations.text("top_right")


def test_corner_text_is_readable_on_a_bright_film(view, tmp_path):
    white = chest_cr(tmp_path / "white.dcm", np.full((700, 900), 4000, np.uint16),
                        windows=[(1000, 200, "narrow")])  # every pixel far above the window: white
    view.set_radiograph(read_radiograph(white))
    view.set_position_text("Im 1/3")
    QApplication.processEvents()
    gray = widget_gray(view.graphics)
    if SHOTS:
        view.grab().save(os.path.join(SHOTS, "corner_text_bright_film.png"))
    film = gray[gray.shape[0] // 2, gray.shape[1] // 2]
    assert film > 240  # the film is white where no text is
    for key in ("top_left", "top_right", "bottom_left", "bottom_right"):
        label = view.annotations.labels[key]
        assert label.isVisible() and label.text()
        r = label.geometry().translated(view.annotations.pos())
        box = gray[r.top():r.bottom(), r.left():r.right()]
        # behind the light letters the plate is dark: most of the box is dark, the letters bright
        assert np.median(box) < 90, (key, float(np.median(box)))
        assert box.max() > 200, key
    assert "Im 1/3" in view.annotations.text("top_right")


def _cr_with(path, **tags):
    import pydicom

    chest_cr(path, np.full((64, 80), 1000, np.uint16), spacing=None)
    ds = pydicom.dcmread(path)
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.save_as(path)
    return read_radiograph(path)


def test_corner_spacing_is_the_measurement_scale_and_says_its_kind(view, tmp_path):
    """The corner prints the spacing lengths are measured with (imaging.spacing), not the raw header value."""
    from cxviewer.imaging.spacing import scale_for_radiograph, user_calibration

    magnified = _cr_with(tmp_path / "mag.dcm", ImagerPixelSpacing=[0.2, 0.2],
                         EstimatedRadiographicMagnificationFactor="1.25")
    assert magnified.pixel_spacing == (0.2, 0.2)  # the raw figure the corner used to print
    view.set_radiograph(magnified)
    assert view.annotations.text("bottom_right").endswith("80 x 64 px, 0.16 x 0.16 mm magnification-corrected")
    calibrated = _cr_with(tmp_path / "cal.dcm", PixelSpacing=[0.18, 0.18], ImagerPixelSpacing=[0.2, 0.2])
    view.set_radiograph(calibrated)
    assert view.annotations.text("bottom_right").endswith("0.18 x 0.18 mm calibrated")
    # the reader's calibration is the view's scale too: the corner follows it
    view.calibration = user_calibration(scale_for_radiograph(calibrated), (0, 0), (50, 0), 10.0)
    assert view.annotations.text("bottom_right").endswith("0.2 x 0.2 mm calibrated")  # 50 px = 10 mm
    view.calibration = None
    assert view.annotations.text("bottom_right").endswith("0.18 x 0.18 mm calibrated")


def test_corner_survives_an_undecodable_spacing_value(view, tmp_path):
    from test_measurement_scale import _undecodable_spacing

    view.set_radiograph(read_radiograph(_undecodable_spacing(tmp_path / "undecodable.dcm")))
    assert view.annotations.text("bottom_right").endswith("80 x 64 px, 0.2 x 0.2 mm at detector")
