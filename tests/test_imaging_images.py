"""PNG, JPEG, WebP and TIFF input: depth kept, colour to luma, alpha dropped, files untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from cxviewer.imaging import read_radiograph, render_display

RNG = np.random.default_rng(7)


def _write(path: Path, image: np.ndarray, *params: int) -> Path:
    ok, data = cv2.imencode(path.suffix, image, list(params))
    assert ok
    path.write_bytes(data.tobytes())
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_png_16bit_keeps_every_value(tmp_path):
    grey = RNG.integers(0, 4096, (60, 80)).astype(np.uint16)  # 12-bit data in a 16-bit PNG
    path = _write(tmp_path / "g16.png", grey)
    rad = read_radiograph(path)
    assert rad.source_format == "PNG" and rad.pixels.dtype == np.uint16
    assert np.array_equal(rad.pixels, grey)
    assert rad.voi_presets == [] and rad.photometric == "MONOCHROME2" and not rad.was_color
    u8 = render_display(rad)  # no header window: the full range of values
    assert u8[grey == grey.min()].max() == 0 and u8[grey == grey.max()].min() == 255


def test_png_8bit_is_shown_as_stored(tmp_path):
    grey = RNG.integers(10, 240, (50, 70)).astype(np.uint8)
    rad = read_radiograph(_write(tmp_path / "g8.png", grey))
    assert np.array_equal(rad.pixels, grey)
    assert np.array_equal(render_display(rad), grey)  # identity, not stretched
    assert np.array_equal(render_display(rad, invert=True), 255 - grey)


def test_rgba_png_drops_alpha_and_takes_luma(tmp_path):
    bgra = np.zeros((40, 30, 4), np.uint8)
    bgra[..., 0], bgra[..., 1], bgra[..., 2], bgra[..., 3] = 200, 100, 50, 0  # B, G, R, fully transparent
    rad = read_radiograph(_write(tmp_path / "rgba.png", bgra))
    assert rad.pixels.shape == (40, 30) and rad.was_color
    assert np.all(np.abs(rad.pixels.astype(int) - round(0.299 * 50 + 0.587 * 100 + 0.114 * 200)) <= 1)


def test_grey_stored_as_rgb_is_not_colour(tmp_path):
    grey = RNG.integers(0, 256, (32, 32)).astype(np.uint8)
    rad = read_radiograph(_write(tmp_path / "rgb_grey.png", cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)))
    assert not rad.was_color and np.array_equal(rad.pixels, grey)


def test_16bit_colour_png(tmp_path):
    bgr = np.zeros((10, 10, 3), np.uint16)
    bgr[..., 2] = 60000  # pure red
    rad = read_radiograph(_write(tmp_path / "red16.png", bgr))
    assert rad.pixels.dtype == np.uint16 and rad.was_color
    assert abs(int(rad.pixels[0, 0]) - round(0.299 * 60000)) <= 2


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_tiff(tmp_path, dtype):
    grey = RNG.integers(0, np.iinfo(dtype).max, (45, 55)).astype(dtype)
    rad = read_radiograph(_write(tmp_path / "image.tif", grey))
    assert rad.source_format == "TIFF" and rad.pixels.dtype == dtype
    assert np.array_equal(rad.pixels, grey)


def test_jpeg_and_webp(tmp_path):
    grey = np.tile(np.linspace(0, 255, 64), (48, 1)).astype(np.uint8)
    jpeg = read_radiograph(_write(tmp_path / "x.jpg", grey, cv2.IMWRITE_JPEG_QUALITY, 95))
    webp = read_radiograph(_write(tmp_path / "x.webp", cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), cv2.IMWRITE_WEBP_QUALITY, 101))
    assert (jpeg.source_format, webp.source_format) == ("JPEG", "WEBP")
    assert np.abs(jpeg.pixels.astype(int) - grey).mean() < 2
    assert np.array_equal(webp.pixels, grey) and not webp.was_color  # quality 101 = lossless


def test_format_found_by_content_not_name(tmp_path):
    grey = RNG.integers(0, 256, (20, 20)).astype(np.uint8)
    ok, data = cv2.imencode(".png", grey)
    path = tmp_path / "misnamed.dcm"
    path.write_bytes(data.tobytes())
    rad = read_radiograph(path)
    assert rad.source_format == "PNG" and np.array_equal(rad.pixels, grey)


def test_real_chest_jpeg(shared_dir):
    path = next((shared_dir / "data" / "cxr" / "images").rglob("*.jpg"))
    before = _digest(path)
    rad = read_radiograph(path)
    assert rad.source_format == "JPEG" and rad.pixels.dtype == np.uint8 and rad.pixels.ndim == 2
    assert rad.pixel_spacing is None and rad.header is None
    assert np.array_equal(render_display(rad), rad.pixels)
    assert _digest(path) == before


def test_reading_leaves_files_byte_identical(tmp_path):
    paths = [
        _write(tmp_path / "a.png", RNG.integers(0, 65535, (30, 30)).astype(np.uint16)),
        _write(tmp_path / "b.tif", RNG.integers(0, 255, (30, 30)).astype(np.uint8)),
    ]
    before = {p: (_digest(p), p.stat().st_mtime_ns) for p in paths}
    listing = sorted(tmp_path.iterdir())
    for p in paths:
        render_display(read_radiograph(p))
    assert {p: (_digest(p), p.stat().st_mtime_ns) for p in paths} == before
    assert sorted(tmp_path.iterdir()) == listing  # nothing written beside the inputs
