"""What the reader takes from DICOM headers: spacing, identifiers, frames, colour."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from dicom_builder import build_dicom

from cxviewer.imaging import read_radiograph

PIXELS = np.arange(12, dtype=np.uint16).reshape(3, 4)


@pytest.mark.parametrize(
    "elements, expected",
    [
        (dict(PixelSpacing=[0.143, 0.15]), (0.143, 0.15)),
        (dict(PixelSpacing=["0.000", "0.000"]), None),  # as in RG1: zero means unknown
        (dict(PixelSpacing=["0", "0"], ImagerPixelSpacing=[0.1, 0.1]), (0.1, 0.1)),
        (dict(ImagerPixelSpacing=[0.2, 0.25]), (0.2, 0.25)),
        (dict(PixelSpacing=[0.2]), None),  # one value: malformed
        (dict(PixelSpacing=[-0.2, 0.2]), None),
        (dict(), None),
    ],
)
def test_pixel_spacing(tmp_path, elements, expected):
    rad = read_radiograph(build_dicom(tmp_path / "s.dcm", PIXELS, **elements))
    assert rad.pixel_spacing == expected


def test_real_zero_spacing_is_unknown(dicom_dir):
    assert read_radiograph(dicom_dir / "RG1_UNCR.dcm").pixel_spacing is None


def test_identifiers_and_missing_values(tmp_path):
    rad = read_radiograph(
        build_dicom(
            tmp_path / "id.dcm",
            PIXELS,
            PatientName="Doe^Jane",
            PatientID="P-1",
            StudyDescription="CHEST PA",
            SeriesNumber="7",
            InstanceNumber="3",
            ViewPosition="AP",
        )
    )
    assert (rad.patient_name, rad.patient_id, rad.study_description) == ("Doe^Jane", "P-1", "CHEST PA")
    assert (rad.series_number, rad.instance_number, rad.view_position) == (7, 3, "AP")
    assert (rad.patient_birth_date, rad.body_part, rad.accession_number) == ("", "", "")


def test_multiframe_takes_the_first_frame(tmp_path):
    frames = np.stack([PIXELS, PIXELS + 100, PIXELS + 200])
    path = build_dicom(tmp_path / "mf.dcm", PIXELS, NumberOfFrames=3, pixel_data=frames.astype("<u2").tobytes())
    rad = read_radiograph(path)
    assert rad.frame_count == 3 and np.array_equal(rad.pixels, PIXELS)


def test_colour_dicom_becomes_luma(tmp_path):
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 0] = 200  # red
    path = build_dicom(tmp_path / "rgb.dcm", np.zeros((4, 5), np.uint8), photometric="RGB", SamplesPerPixel=3, PlanarConfiguration=0, pixel_data=rgb.tobytes())
    rad = read_radiograph(path)
    assert rad.was_color and rad.photometric == "MONOCHROME2" and rad.pixels.shape == (4, 5)
    assert abs(int(rad.pixels[0, 0]) - round(0.299 * 200)) <= 1


def test_header_keeps_no_pixel_bytes_and_file_is_untouched(tmp_path):
    path = build_dicom(tmp_path / "h.dcm", PIXELS, WindowCenter=5, WindowWidth=10)
    before = path.read_bytes()
    rad = read_radiograph(path)
    assert "PixelData" not in rad.header and rad.header.WindowCenter == 5
    assert path.read_bytes() == before
    assert pydicom.dcmread(path).PixelData == PIXELS.tobytes()


def test_invalid_windows_are_skipped(tmp_path):
    rad = read_radiograph(build_dicom(tmp_path / "w.dcm", PIXELS, WindowCenter=[5, 6, 7], WindowWidth=[0, 10, -3]))
    assert [(p.center, p.width) for p in rad.voi_presets] == [(6, 10)]
    assert rad.voi_presets[0].name == "Header window 2"


def test_acquisition_date_and_time_in_order_of_preference():
    from pydicom.dataset import Dataset

    from cxviewer.imaging.dicom_header import acquisition_date_time

    ds = Dataset()
    assert acquisition_date_time(ds) == ("", "")
    ds.ContentDate, ds.ContentTime = "19950926", "125130"
    assert acquisition_date_time(ds) == ("19950926", "125130")  # the image's creation, lacking better
    ds.AcquisitionDate, ds.AcquisitionTime = "19970314", "091300.00"
    assert acquisition_date_time(ds) == ("19970314", "091300.00")
    ds.AcquisitionDateTime = "20240131101532.123+0900"
    assert acquisition_date_time(ds) == ("20240131", "101532")
