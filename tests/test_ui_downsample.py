"""block_mean: exact k x k block means (partial edge blocks = mean of the pixels present), fast path."""

from __future__ import annotations

import numpy as np
import pytest

from cxviewer.ui.viewer.downsample import block_mean


def reference(pixels: np.ndarray, k: int) -> np.ndarray:
    h, w = pixels.shape
    out = np.empty((-(-h // k), -(-w // k)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = pixels[i * k:(i + 1) * k, j * k:(j + 1) * k].astype(np.float64).mean()
    return out


@pytest.mark.parametrize("shape", [(64, 64), (67, 61), (65, 64), (64, 66), (5, 3), (1, 9)])
@pytest.mark.parametrize("k", [2, 3, 4, 8])
@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.uint8, np.float32, np.int32])
def test_block_means_match_a_plain_reference(shape, k, dtype):
    rng = np.random.default_rng(sum(shape) * k)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    lo, hi = (max(info.min, -30000), min(info.max, 60000)) if info else (-1000.0, 4000.0)
    pixels = rng.uniform(lo, hi, shape).astype(dtype)
    got = block_mean(pixels, k)
    want = reference(pixels, k)
    assert got.shape == want.shape
    tol = 0.51 if np.dtype(got.dtype).kind in "iu" else 1e-2  # integer outputs are rounded
    assert np.max(np.abs(got.astype(np.float64) - want)) <= tol


def test_factor_one_is_the_same_array():
    pixels = np.arange(12, dtype=np.uint16).reshape(3, 4)
    assert block_mean(pixels, 1) is pixels


def test_real_cr_keeps_its_grey_levels(dicom_dir):
    from cxviewer.imaging import read_radiograph

    pixels = read_radiograph(dicom_dir / "RG1_UNCR.dcm").pixels  # 1841 x 1955: both sides odd
    small = block_mean(pixels, 2)
    assert small.dtype == pixels.dtype and small.shape == (978, 921)
    assert abs(float(small[:-1, :-1].mean()) - float(pixels[:-1, :-1].mean())) < 0.5  # full blocks
    assert small[-1, -1] == pixels[-1, -1]  # the 1 x 1 corner block
    last_row = pixels[-1, :-1].reshape(-1, 2).mean(axis=1)  # 1-pixel-high blocks of the last row
    assert np.max(np.abs(small[-1, :-1] - last_row)) <= 0.5
