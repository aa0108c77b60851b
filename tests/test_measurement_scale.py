"""Measurement scale (PS3.3 10.7.1.3): Pixel Spacing vs Imager Pixel Spacing, magnification factor,
calibration in the header and by the reader; the label says which. Real CR films and synthetic headers."""

from __future__ import annotations

import math

import pytest
from pydicom.dataset import Dataset

from cxviewer.imaging import read_radiograph
from cxviewer.imaging.spacing import (CALIBRATED, DETECTOR, MAGNIFICATION, PIXELS, USER,
                                      MeasurementScale, scale_for_radiograph, scale_from_header,
                                      user_calibration)


def _ds(**tags) -> Dataset:
    ds = Dataset()
    for k, v in tags.items():
        setattr(ds, k, v)
    return ds


def test_hip_film_pixel_spacing_alone_is_a_detector_plane_figure(dicom_dir):
    rad = read_radiograph(dicom_dir / "RG2_JPLL.dcm")  # CR HIP, Pixel Spacing 0.2\0.2, no IPS
    scale = scale_for_radiograph(rad)
    assert scale.kind == DETECTOR and scale.unit_label == "mm at detector"
    assert (scale.row_mm, scale.col_mm) == (0.2, 0.2)
    assert scale.format_length(scale.length((0, 0), (913, 0))) == "182.6 mm at detector"
    assert "not corrected for magnification" in scale.explanation


def test_imager_pixel_spacing_only_is_at_the_detector(dicom_dir):
    rad = read_radiograph(dicom_dir / "CR_tiny_1.dcm")  # Imager Pixel Spacing 0.1\0.1 only
    scale = scale_for_radiograph(rad)
    assert scale.kind == DETECTOR and "Imager Pixel Spacing" in scale.explanation
    assert scale.length((0, 0), (3, 4)) == pytest.approx(0.5)


def test_zero_spacing_and_none_measure_in_pixels(dicom_dir):
    for name in ("RG1_UNCR.dcm", "RG3_JLSN.dcm"):  # Pixel Spacing 0\0; none at all
        scale = scale_for_radiograph(read_radiograph(dicom_dir / name))
        assert scale.kind == PIXELS and scale.unit_label == "px" and not scale.in_mm
        assert scale.length((0, 0), (30, 40)) == 50.0


def test_equal_pixel_and_imager_spacing_is_detector_plane(dicom_dir):
    rad = read_radiograph(dicom_dir / "CR-ModalitySequenceLUT.dcm")  # both 0.15\0.15
    assert scale_for_radiograph(rad).kind == DETECTOR


def test_magnification_factor_corrects_detector_spacing():
    scale = scale_from_header(_ds(ImagerPixelSpacing=[0.2, 0.1], EstimatedRadiographicMagnificationFactor=1.25))
    assert scale.kind == MAGNIFICATION and scale.unit_label == "mm magnification-corrected"
    assert (scale.row_mm, scale.col_mm) == pytest.approx((0.16, 0.08))
    # 100 px across = 10 mm at the detector, 8 mm at the isocentre
    assert scale.length((0, 0), (100, 0)) == pytest.approx(8.0)
    same = scale_from_header(_ds(PixelSpacing=[0.2, 0.1], ImagerPixelSpacing=[0.2, 0.1],
                                 EstimatedRadiographicMagnificationFactor=1.25))
    assert same.kind == MAGNIFICATION and same.row_mm == pytest.approx(0.16)


def test_calibrated_pixel_spacing_is_used_as_it_is():
    by_type = scale_from_header(_ds(PixelSpacing=[0.14, 0.14], ImagerPixelSpacing=[0.14, 0.14],
                                    PixelSpacingCalibrationType="GEOMETRY",
                                    PixelSpacingCalibrationDescription="SID 180 cm",
                                    EstimatedRadiographicMagnificationFactor=1.1))
    assert by_type.kind == CALIBRATED and by_type.row_mm == 0.14  # not divided again
    assert "GEOMETRY" in by_type.explanation and "SID 180 cm" in by_type.explanation
    by_difference = scale_from_header(_ds(PixelSpacing=[0.13, 0.13], ImagerPixelSpacing=[0.15, 0.15]))
    assert by_difference.kind == CALIBRATED and by_difference.unit_label == "mm calibrated"
    assert by_difference.col_mm == 0.13


def test_reader_calibration_scales_the_header_and_round_trips():
    base = scale_from_header(_ds(PixelSpacing=[0.4, 0.2]))
    # a 30 mm coin drawn over 100 columns: 0.2 mm/px at the detector says 20 mm
    cal = user_calibration(base, (10, 10), (110, 10), 30.0)
    assert cal.kind == USER and cal.unit_label == "mm calibrated"
    assert cal.length((10, 10), (110, 10)) == pytest.approx(30.0)
    assert (cal.row_mm, cal.col_mm) == pytest.approx((0.6, 0.3))  # aspect kept
    assert MeasurementScale.from_dict(cal.to_dict()) == cal
    square = user_calibration(scale_from_header(_ds()), (0, 0), (30, 40), 25.0)
    assert square.row_mm == square.col_mm == pytest.approx(0.5)
    with pytest.raises(ValueError):
        user_calibration(base, (0, 0), (0, 0.2), 10.0)
    with pytest.raises(ValueError):
        user_calibration(base, (0, 0), (10, 0), -1.0)
    with pytest.raises(ValueError):
        MeasurementScale.from_dict({"row_mm": 0.1, "col_mm": None, "kind": "user"})


def test_broken_spacing_values_fall_back_safely():
    assert scale_from_header({"PixelSpacing": ["abc", "1"]}).kind == PIXELS  # as a damaged header reads
    assert scale_from_header(_ds(ImagerPixelSpacing=[0.1, 0.1],
                                 EstimatedRadiographicMagnificationFactor=0)).kind == DETECTOR
    assert math.isfinite(scale_from_header(_ds(PixelSpacing=[0.1, 0.1])).length((0, 0), (1, 1)))


def _undecodable_spacing(path):
    """A real-format CR whose Pixel Spacing cannot be decoded (3 bytes under VR FD) beside a good Imager
    Pixel Spacing: pydicom raises when the value is read."""
    import numpy as np
    import pydicom
    from dicom_builder import chest_cr
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    chest_cr(path, np.full((64, 80), 1000, np.uint16), spacing=None)
    ds = pydicom.dcmread(path)
    ds.ImagerPixelSpacing = [0.2, 0.2]
    tag = Tag(0x0028, 0x0030)
    ds[tag] = RawDataElement(tag, "FD", 3, b"\x01\x02\x03", 0, False, True)
    ds.save_as(path)
    return path


def test_an_undecodable_spacing_value_does_not_stop_the_film(tmp_path):
    import pydicom
    from pydicom.errors import BytesLengthException

    path = _undecodable_spacing(tmp_path / "undecodable.dcm")
    with pytest.raises(BytesLengthException):
        pydicom.dcmread(path).PixelSpacing  # noqa: B018  # the value really is undecodable
    rad = read_radiograph(path)
    scale = scale_for_radiograph(rad)  # the header rule (imaging.dicom_header) survives it, as the reader does
    assert scale.kind == DETECTOR and (scale.row_mm, scale.col_mm) == (0.2, 0.2)
    assert "Imager Pixel Spacing" in scale.explanation
