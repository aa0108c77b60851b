"""The display state (cxviewer.imaging.display_state): one default-window rule, one rendering, one caption,
checked on real files and against the per-pixel reference of PS3.3 C.11 (display_reference)."""

from __future__ import annotations

import numpy as np
import pytest
from display_reference import full_range, to_display, voi_linear

from cxviewer.imaging import DisplayState, Window, default_window, read_radiograph, render_display
from cxviewer.imaging import orientation as vo
from cxviewer.imaging.display_state import FULL_RANGE


def _reference(values: np.ndarray, curve) -> np.ndarray:
    """Per-pixel reference through a lookup over the distinct values (the reference is plain Python)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    return np.array([curve(float(v)) for v in distinct], np.uint8)[inverse].reshape(values.shape)


def _close(actual: np.ndarray, expected: np.ndarray) -> None:
    diff = np.abs(actual.astype(int) - expected.astype(int))
    assert actual.dtype == np.uint8 and actual.shape == expected.shape
    assert diff.max() <= 1, f"max abs diff {diff.max()} (rounding differences only are expected)"
    assert len(np.unique(expected)) > 50  # a real picture, not a flat field


def test_default_is_the_first_header_window_monochrome1_inverted_after_voi(dicom_dir):
    rad = read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm")  # MONOCHROME1, window 550 / 1024
    window = default_window(rad)
    assert window.voi is rad.voi_presets[0] and (window.center, window.width) == (550.0, 1024.0)
    assert window.function == "LINEAR"
    state = DisplayState.default(rad)
    assert not state.inverted and np.array_equal(state.orientation, vo.IDENTITY)
    expected = _reference(rad.pixels, lambda x: to_display(voi_linear(x, 550, 1024), monochrome1=True))
    _close(state.render(rad), expected)
    assert np.array_equal(state.render(rad), render_display(rad))  # the CLI's and the fuzzers' entry point
    assert state.caption() == f"{rad.voi_presets[0].name}, centre 550 / width 1024"


def test_no_header_window_means_the_full_range_of_modality_values(dicom_dir):
    # Modality LUT Sequence (it wins over rescale) and MONOCHROME1, no window in the header
    rad = read_radiograph(dicom_dir / "CR-ModalitySequenceLUT.dcm")
    assert rad.voi_presets == []
    lo, hi = float(rad.pixels.min()), float(rad.pixels.max())
    window = default_window(rad)
    assert window.name == FULL_RANGE and window.function == "LINEAR"
    assert window.width == hi - lo + 1 and window.center == lo + window.width / 2
    shown = DisplayState.default(rad).render(rad)
    assert shown[rad.pixels == lo].min() == 255 and shown[rad.pixels == hi].max() == 0  # MONOCHROME1: low is white
    expected = _reference(rad.pixels, lambda x: to_display(full_range(x, lo, hi), monochrome1=True))
    _close(shown, expected)
    assert DisplayState.default(rad).caption() == f"Full range, centre {window.center:g} / width {window.width:g}"


def test_invert_is_the_readers_own_after_c11(dicom_dir):
    rad = read_radiograph(dicom_dir / "CR_tiny_1.dcm")
    state = DisplayState.default(rad)
    inverted = state.with_inverted(True)
    assert np.array_equal(inverted.render(rad), 255 - state.render(rad))
    assert np.array_equal(render_display(rad, invert=True), inverted.render(rad))
    assert not state.inverted  # a state never changes: every change is a new one
    assert inverted.caption().endswith(", inverted")


def test_custom_window_keeps_its_function_and_renders_like_the_header_formula(dicom_dir):
    rad = read_radiograph(dicom_dir / "CR-MONO1-10-chest.dcm")
    state = DisplayState.default(rad).with_window(Window.custom(400, 300, "Lung"))
    expected = _reference(rad.pixels, lambda x: to_display(voi_linear(x, 400, 300), monochrome1=True))
    _close(state.render(rad), expected)
    assert state.caption() == "Lung, centre 400 / width 300"
    assert Window.custom(10, 0).width == 1e-6  # a drag can never reach a zero width


def test_rotations_and_flips_compose_as_the_screen_shows_them(dicom_dir):
    rad = read_radiograph(dicom_dir / "CR_tiny_2.dcm")
    state = DisplayState.default(rad)
    upright = state.render(rad)
    cw = state.rotated()
    assert np.array_equal(cw.render(rad, oriented=True), np.rot90(upright, -1))
    assert np.array_equal(cw.render(rad), upright)  # the viewer turns the item; the pixels stay upright
    assert np.array_equal(state.rotated().rotated().rotated().rotated().orientation, vo.IDENTITY)
    assert np.array_equal(state.rotated(True).rotated(False).orientation, vo.IDENTITY)
    # a flip acts on what is on screen: turn, then mirror left-right = the transpose
    turned_then_mirrored = cw.flipped_horizontally()
    assert np.array_equal(turned_then_mirrored.render(rad, oriented=True), upright.T)
    assert turned_then_mirrored.caption().endswith(", mirrored, rotated 270\N{DEGREE SIGN} clockwise")
    assert turned_then_mirrored.orientation_text() == "Rot 270\N{DEGREE SIGN}, Flipped"
    flipped_v = state.flipped_vertically()
    assert np.array_equal(flipped_v.render(rad, oriented=True), upright[::-1])
    assert np.array_equal(flipped_v.flipped_vertically().orientation, vo.IDENTITY)
    assert state.orientation_text() == "" and state.caption() == state.window.caption()


def test_a_voi_lut_caption_names_the_table_alone():
    from cxviewer.imaging import Radiograph, VoiPreset

    lut = np.arange(256, dtype=np.uint16) * 16
    preset = VoiPreset(name="Header VOI LUT 1", center=128.0, width=256.0, function="LUT", lut=lut, lut_bits=12)
    rad = Radiograph(path="synthetic", pixels=np.arange(256, dtype=np.uint16).reshape(16, 16),
                     voi_presets=[preset], voi_function="SIGMOID")
    window = default_window(rad)
    assert window.caption() == "Header VOI LUT 1"
    assert window.function == "SIGMOID"  # dragging away from the table uses the header's VOI LUT Function
    assert np.array_equal(DisplayState.default(rad).render(rad), np.rint(np.arange(256) * 16 * 255 / 4095)
                          .astype(np.uint8).reshape(16, 16))


@pytest.mark.parametrize("bad", [(100.0, 0.0), (100.0, float("nan"))])
def test_render_display_refuses_a_window_without_width(dicom_dir, bad):
    rad = read_radiograph(dicom_dir / "CR_tiny_3.dcm")
    with pytest.raises(ValueError):
        render_display(rad, bad)
