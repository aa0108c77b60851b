"""PS3.3 C.11 corners real files reach: each expected value is worked out from the standard's formulas here.

Presentation LUT Shape INVERSE on MONOCHROME2, a VOI LUT whose first mapped value is negative because of the
rescale (unsigned pixels), 8-bit LUT entries packed two to a word, a negative integer Rescale Slope, and Pixel
Padding left out of the full-range window.
"""

from __future__ import annotations

import numpy as np
import pytest
from dicom_builder import build_dicom, lut_item

from cxviewer.imaging import DisplayState, read_radiograph, render_display

RAMP = np.linspace(0, 4000, 64 * 64).reshape(64, 64).round().astype(np.uint16)


def _linear(x, center, width):
    """C.11.2.1.2.1 LINEAR to 0..255, rounded."""
    x = np.asarray(x, np.float64)
    y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255.0
    y = np.where(x <= center - 0.5 - (width - 1) / 2, 0.0, np.where(x > center - 0.5 + (width - 1) / 2, 255.0, y))
    return np.rint(np.clip(y, 0, 255)).astype(np.uint8)


def test_presentation_lut_shape_inverse_reverses_a_monochrome2_film(tmp_path):
    path = build_dicom(tmp_path / "inv.dcm", RAMP, bits_stored=12, WindowCenter="2000", WindowWidth="2000",
                       PresentationLUTShape="INVERSE")
    rad = read_radiograph(path)
    assert rad.shown_reversed
    assert np.array_equal(render_display(rad), 255 - _linear(RAMP, 2000, 2000))
    plain = read_radiograph(build_dicom(tmp_path / "id.dcm", RAMP, bits_stored=12, WindowCenter="2000",
                                        WindowWidth="2000", PresentationLUTShape="IDENTITY"))
    assert not plain.shown_reversed and np.array_equal(render_display(plain), _linear(RAMP, 2000, 2000))
    # MONOCHROME1 with INVERSE (the DX pairing) is reversed once, not twice
    mono1 = read_radiograph(build_dicom(tmp_path / "m1.dcm", RAMP, bits_stored=12, photometric="MONOCHROME1",
                                        WindowCenter="2000", WindowWidth="2000", PresentationLUTShape="INVERSE"))
    assert np.array_equal(render_display(mono1), 255 - _linear(RAMP, 2000, 2000))


def test_a_voi_lut_starting_below_zero_after_the_rescale_is_read_signed_for_unsigned_pixels(tmp_path):
    """Unsigned 12-bit pixels, intercept -1024: modality values -1024..2976; the VOI LUT's first mapped value
    -1024 is written 64512 (US), and is signed by C.11.2.1.1 because its input can be negative."""
    stored = np.array([[0, 1024, 2048, 3072]], np.uint16).repeat(4, axis=0)
    table = np.arange(4096) * 16  # 12-bit input -> 16-bit output, linear
    path = build_dicom(tmp_path / "voi.dcm", stored, bits_stored=12, RescaleSlope="1", RescaleIntercept="-1024",
                       VOILUTSequence=[lut_item(-1024, table, bits=16)])
    got = render_display(read_radiograph(path))[0]
    modality = stored[0].astype(np.int64) - 1024
    expected = np.rint(table[np.clip(modality + 1024, 0, 4095)] * 255.0 / 65535).astype(np.uint8)
    assert list(got) == list(expected) and got[-1] > 0


def test_eight_bit_lut_entries_packed_two_to_a_word_are_read(tmp_path):
    stored = np.array([[0, 1, 2, 3]], np.uint16).repeat(4, axis=0)
    data = np.array([0, 85, 170, 255], np.uint8)
    item = lut_item(0, [0, 0, 0, 0], bits=8)
    item[0x00283006].VR, item[0x00283006].value = "OW", data.tobytes()  # 4 entries in 2 words
    path = build_dicom(tmp_path / "packed.dcm", stored, bits_stored=12, VOILUTSequence=[item])
    rad = read_radiograph(path)
    assert rad.voi_presets and rad.voi_presets[0].lut is not None
    assert list(render_display(rad)[0]) == [0, 85, 170, 255]


def test_a_negative_integer_rescale_slope_is_applied(tmp_path):
    stored = np.array([[0, 1, 1000, 65535]], np.uint16).repeat(4, axis=0)
    rad = read_radiograph(build_dicom(tmp_path / "neg.dcm", stored, RescaleSlope="-1", RescaleIntercept="65535"))
    assert list(rad.pixels[0]) == [65535, 65534, 64535, 0]


def test_pixel_padding_is_left_out_of_the_full_range_window(tmp_path):
    """No window in the header: the default spreads the image's own values (1000..3000) over 0..255, not the
    padding (0) around them; a padding range (Pixel Padding Range Limit) likewise."""
    film = np.zeros((64, 64), np.uint16)
    film[8:56, 8:56] = np.linspace(1000, 3000, 48 * 48).reshape(48, 48).round()
    rad = read_radiograph(build_dicom(tmp_path / "pad.dcm", film, bits_stored=12, PixelPaddingValue=0))
    assert rad.value_range() == (1000.0, 3000.0)
    shown = DisplayState.default(rad).render(rad)
    assert shown[8:56, 8:56].min() == 0 and shown[8:56, 8:56].max() == 255
    ranged = film.copy()
    ranged[:8] = 5
    rad = read_radiograph(build_dicom(tmp_path / "range.dcm", ranged, bits_stored=12, PixelPaddingValue=0,
                                      PixelPaddingRangeLimit=10))
    assert rad.value_range() == (1000.0, 3000.0)


def test_pixel_padding_is_left_out_of_the_histogram_presets():
    """Auto, Lung...: percentiles of the image, not of its padding (here a value inside the image's range, which the
    presets' dropping of the extreme values does not catch)."""
    from cxviewer.ui.viewer.presets import histogram_window

    ramp = np.linspace(0, 1000, 64 * 32).reshape(32, 64)
    film = np.vstack([ramp, np.full((32, 64), 500.0)])  # half the film padded with 500
    with_padding = histogram_window(film, False, 5, 95)
    without = histogram_window(film, False, 5, 95, padding=(500.0, 500.0))
    assert without == pytest.approx(histogram_window(ramp, False, 5, 95), rel=0.02)
    assert with_padding[1] < 0.9 * without[1]  # counted, the padding squeezes the window towards its one value
