"""Display transform (PS3.3 C.11) against a per-pixel reference written from the standard.

Each case builds a synthetic DICOM with pydicom, reads it with CXViewer and compares the default
display (and where relevant another preset) with ``display_reference`` computed pixel by pixel
from the stored values and the header parameters the test itself chose.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from dicom_builder import build_dicom, lut_item
from display_reference import full_range, modality, to_display, voi_linear, voi_linear_exact, voi_lut, voi_sigmoid

from cxviewer.imaging import VoiPreset, apply_voi, full_range_window, read_radiograph, render_display

ROWS, COLS = 48, 64


def _stored(lo: int, hi: int, dtype: type, seed: int = 0) -> np.ndarray:
    """A ramp over lo..hi (both ends hit) mixed with random values: covers every VOI region."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(lo, hi, ROWS * COLS // 2).round()
    noise = rng.integers(lo, hi + 1, ROWS * COLS - ramp.size)
    return np.concatenate([ramp, noise]).astype(dtype).reshape(ROWS, COLS)


def _reference(stored: np.ndarray, modality_of: Callable[[int], float], voi_of: Callable[[float], float], mono1: bool) -> np.ndarray:
    out = np.empty(stored.shape, np.uint8)
    for (r, c), x in np.ndenumerate(stored):
        out[r, c] = to_display(voi_of(modality_of(int(x))), mono1)
    return out


def _compare(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == np.uint8 and actual.shape == expected.shape
    diff = np.abs(actual.astype(int) - expected.astype(int))
    assert diff.mean() <= 1.5, f"mean abs diff {diff.mean():.3f}"
    assert diff.max() <= 1, f"max abs diff {diff.max()} (rounding differences only are expected)"
    assert len(np.unique(expected)) > 10  # the case really spans many grey levels


MOD_LUT = [int(4095 * math.sqrt(i / 799)) for i in range(800)]  # 800 entries from stored value 100
VOI_LUT = [int(4095 * (i / 1999) ** 2) for i in range(2000)]  # 2000 entries from modality value 500

CASES = {
    # name: (stored, photometric, header elements, modality(x), voi(y))
    "rescale": (
        _stored(0, 4095, np.uint16),
        "MONOCHROME2",
        dict(BitsStoredOverride=12, RescaleSlope=2, RescaleIntercept=-1024, WindowCenter=1000, WindowWidth=3000),
        lambda x: modality(x, 2, -1024),
        lambda y: voi_linear(y, 1000, 3000),
    ),
    "rescale_fractional": (
        _stored(0, 4095, np.uint16),
        "MONOCHROME2",
        dict(RescaleSlope="0.684", RescaleIntercept="200", WindowCenter=1600, WindowWidth=2800),
        lambda x: modality(x, 0.684, 200),
        lambda y: voi_linear(y, 1600, 2800),
    ),
    "modality_lut_sequence": (
        _stored(0, 1023, np.uint16),
        "MONOCHROME2",
        # The sequence must win over the (contradicting) rescale values also present.
        dict(ModalityLUTSequence=[lut_item(100, MOD_LUT, 12)], RescaleSlope=3, RescaleIntercept=50, WindowCenter=2000, WindowWidth=4000),
        lambda x: modality(x, lut=MOD_LUT, first=100),
        lambda y: voi_linear(y, 2000, 4000),
    ),
    "linear": (
        _stored(0, 4095, np.uint16),
        "MONOCHROME2",
        dict(WindowCenter=2048, WindowWidth=1024),
        modality,
        lambda y: voi_linear(y, 2048, 1024),
    ),
    "linear_narrow_fractional": (
        _stored(1990, 2010, np.uint16),
        "MONOCHROME2",
        dict(WindowCenter="2000.3", WindowWidth="17.5"),
        modality,
        lambda y: voi_linear(y, 2000.3, 17.5),
    ),
    "linear_exact": (
        _stored(0, 4095, np.uint16),
        "MONOCHROME2",
        dict(WindowCenter=2000, WindowWidth=1500, VOILUTFunction="LINEAR_EXACT"),
        modality,
        lambda y: voi_linear_exact(y, 2000, 1500),
    ),
    "sigmoid": (
        _stored(0, 4095, np.uint16),
        "MONOCHROME2",
        dict(WindowCenter=2000, WindowWidth=1500, VOILUTFunction="SIGMOID"),
        modality,
        lambda y: voi_sigmoid(y, 2000, 1500),
    ),
    "voi_lut_sequence": (
        _stored(0, 4095, np.uint16),
        "MONOCHROME2",
        dict(VOILUTSequence=[lut_item(500, VOI_LUT, 12, explanation="CURVE")]),
        modality,
        lambda y: voi_lut(y, VOI_LUT, 500, 12),
    ),
    "two_windows_first_is_default": (
        _stored(0, 4095, np.uint16),
        "MONOCHROME2",
        dict(WindowCenter=[1000, 3000], WindowWidth=[500, 2000], WindowCenterWidthExplanation=["SOFT", "BONE"]),
        modality,
        lambda y: voi_linear(y, 1000, 500),
    ),
    "signed_pixels": (
        _stored(-2048, 2047, np.int16),
        "MONOCHROME2",
        dict(RescaleIntercept=-100, WindowCenter=0, WindowWidth=2000),
        lambda x: modality(x, 1, -100),
        lambda y: voi_linear(y, 0, 2000),
    ),
    "signed_voi_lut_negative_first": (
        _stored(-2048, 2047, np.int16),
        "MONOCHROME2",
        dict(VOILUTSequence=[lut_item(-1000, VOI_LUT, 12, as_ow=True)]),
        modality,
        lambda y: voi_lut(y, VOI_LUT, -1000, 12),
    ),
    "monochrome1": (
        _stored(0, 1023, np.uint16),
        "MONOCHROME1",
        dict(WindowCenter=550, WindowWidth=1024),
        modality,
        lambda y: voi_linear(y, 550, 1024),
    ),
    "no_voi_full_range": (
        _stored(37, 3000, np.uint16),
        "MONOCHROME2",
        dict(),
        modality,
        lambda y: full_range(y, 37, 3000),
    ),
    "no_voi_monochrome1_modality_lut": (
        _stored(0, 1023, np.uint16),
        "MONOCHROME1",
        dict(ModalityLUTSequence=[lut_item(100, MOD_LUT, 12)]),
        lambda x: modality(x, lut=MOD_LUT, first=100),
        lambda y: full_range(y, 0, 4095),
    ),
}


@pytest.mark.parametrize("file_meta", [True, False], ids=["with_meta", "acr_nema_style"])
@pytest.mark.parametrize("name", list(CASES))
def test_default_display_matches_reference(tmp_path, name, file_meta):
    stored, photometric, elements, modality_of, voi_of = CASES[name]
    elements = dict(elements)
    bits_stored = elements.pop("BitsStoredOverride", None)
    path = build_dicom(tmp_path / f"{name}.dcm", stored, photometric=photometric, bits_stored=bits_stored, file_meta=file_meta, **elements)
    rad = read_radiograph(path)
    assert rad.photometric == photometric
    expected = _reference(stored, modality_of, voi_of, photometric == "MONOCHROME1")
    _compare(render_display(rad), expected)


def test_second_window_and_explanations(tmp_path):
    stored, photometric, elements, _, _ = CASES["two_windows_first_is_default"]
    rad = read_radiograph(build_dicom(tmp_path / "w.dcm", stored, **elements))
    assert [(p.name, p.center, p.width, p.explanation) for p in rad.voi_presets] == [
        ("SOFT", 1000, 500, "SOFT"),
        ("BONE", 3000, 2000, "BONE"),
    ]
    expected = _reference(stored, modality, lambda y: voi_linear(y, 3000, 2000), False)
    _compare(render_display(rad, window=rad.voi_presets[1]), expected)


def test_window_and_lut_presets_are_all_offered(tmp_path):
    stored = _stored(0, 4095, np.uint16)
    rad = read_radiograph(
        build_dicom(
            tmp_path / "both.dcm",
            stored,
            WindowCenter=[1000, 3000],
            WindowWidth=[500, 2000],
            VOILUTFunction="SIGMOID",
            VOILUTSequence=[lut_item(500, VOI_LUT, 12, explanation="CURVE"), lut_item(0, [0, 255], 8)],
        )
    )
    assert rad.voi_function == "SIGMOID"
    assert [p.function for p in rad.voi_presets] == ["SIGMOID", "SIGMOID", "LUT", "LUT"]
    assert [p.name for p in rad.voi_presets][2] == "CURVE"
    assert rad.voi_presets[3].lut_bits == 8 and list(rad.voi_presets[3].lut) == [0, 255]
    expected = _reference(stored, modality, lambda y: voi_lut(y, VOI_LUT, 500, 12), False)
    _compare(render_display(rad, window=rad.voi_presets[2]), expected)


def test_user_window_uses_header_function_and_invert(tmp_path):
    stored = _stored(0, 4095, np.uint16)
    rad = read_radiograph(build_dicom(tmp_path / "s.dcm", stored, photometric="MONOCHROME1", WindowCenter=2000, WindowWidth=1500, VOILUTFunction="SIGMOID"))
    sigmoid = _reference(stored, modality, lambda y: voi_sigmoid(y, 1000, 800), True)
    _compare(render_display(rad, window=(1000, 800)), sigmoid)
    # The user's extra invert cancels the MONOCHROME1 inversion.
    _compare(render_display(rad, window=(1000, 800), invert=True), 255 - sigmoid)


def test_full_range_window_maps_min_and_max_to_black_and_white(tmp_path):
    stored = _stored(-300, 700, np.int16)
    rad = read_radiograph(build_dicom(tmp_path / "f.dcm", stored))
    center, width = full_range_window(rad)
    u8 = apply_voi(rad.pixels, (center, width))
    assert u8[stored == -300].max() == 0 and u8[stored == 700].min() == 255


# --- apply_voi directly, every dtype and both code paths (OpenCV fast path and lookup table) ---

WINDOWS = [(2048, 1024), (2000.3, 7.5), (100, 2), (100.5, 1), (-40, 400), (40000, 100), (-40000, 100), (0.5, 3.25)]
DTYPES = {
    np.uint8: (0, 255),
    np.uint16: (0, 65535),
    np.int16: (-32768, 32767),
    np.int32: (-100_000, 100_000),
    np.uint32: (0, 300_000),
    np.float32: (-5000, 5000),
    np.float64: (-5000, 5000),
}


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize("dtype", list(DTYPES), ids=lambda d: np.dtype(d).name)
def test_apply_voi_every_dtype_matches_reference(dtype, function):
    rng = np.random.default_rng(1)
    lo, hi = DTYPES[dtype]
    formula = {"LINEAR": voi_linear, "LINEAR_EXACT": voi_linear_exact, "SIGMOID": voi_sigmoid}[function]
    for center, width in WINDOWS:
        if function == "LINEAR" and width < 1:
            continue
        near = rng.normal(center, width, 1500)
        wide = rng.uniform(lo, hi, 500)
        values = np.clip(np.concatenate([near, wide, [lo, hi]]), lo, hi)
        if np.dtype(dtype).kind != "f":
            values = np.rint(values)
        pixels = values.astype(dtype).reshape(2, -1)
        for mono1 in (False, True):
            actual = apply_voi(pixels, (center, width), monochrome1=mono1, function=function)
            expected = np.array([to_display(formula(float(x), center, width), mono1) for x in pixels.ravel()]).reshape(pixels.shape)
            diff = np.abs(actual.astype(int) - expected)
            assert diff.max() <= 1, (center, width, mono1, pixels.ravel()[diff.ravel().argmax()])


def test_apply_voi_on_strided_views():
    """The viewer passes downsampled views (pixels[::2, ::2]); they must give the same result."""
    pixels = _stored(0, 4095, np.uint16)
    view = pixels[::2, ::3]
    assert np.array_equal(apply_voi(view, (2048, 1024)), apply_voi(view.copy(), (2048, 1024)))


def test_apply_voi_rejects_bad_windows():
    pixels = _stored(0, 4095, np.uint16)
    for window in [(100, 0), (100, -5), (float("nan"), 10)]:
        with pytest.raises(ValueError):
            apply_voi(pixels, window)
    with pytest.raises(ValueError):
        apply_voi(pixels, VoiPreset("x", 100, 10, function="CUBIC"))
