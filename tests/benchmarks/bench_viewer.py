"""Viewer benchmarks: file to first displayed frame, window/level repaint, memory over 50 images."""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path

import numpy as np

from common import DICOM_DIR, emit, median, peak_rss_mb, result, rss_mb
from qt_support import main_window, settle, wait_for

OPEN_CASES = ("RG1_UNCR.dcm", "RG1_J2KR.dcm")


def _open_once(window, path: Path, paint: list[float] | None = None) -> float:
    """Seconds from ``open_paths`` to the frame painted, with nothing of ``path`` cached."""
    window.close_all()
    settle(20)
    gc.collect()
    t0 = time.perf_counter()
    wait_for(window.currentImageChanged, lambda rad: rad is not None and Path(rad.path) == path,
             trigger=lambda: window.open_paths([path]))
    t1 = time.perf_counter()
    window.image_view.graphics.viewport().repaint()  # the frame is on screen, not only in the item
    elapsed = time.perf_counter() - t0
    if paint is not None:
        paint.append(elapsed - (t1 - t0))
    assert window.image_view.displayed_image() is not None
    return elapsed


def _reader_once(path: Path) -> float:
    from cxviewer.imaging import read_radiograph

    t0 = time.perf_counter()
    read_radiograph(path)
    return time.perf_counter() - t0


def _pydicom_once(path: Path) -> float:
    import pydicom

    t0 = time.perf_counter()
    ds = pydicom.dcmread(path)
    _ = ds.pixel_array
    return time.perf_counter() - t0


def open_to_pixels(repeats: int, **_) -> None:
    window = main_window()
    settle(1000)  # picking the first file takes a reader longer than this after the window shows
    first = None
    for name in OPEN_CASES:
        path = DICOM_DIR / name
        # Warm-up: codec plugins and first-use imports happen once per process, on both sides.
        cold = _open_once(window, path)
        first = cold if first is None else None  # the first file after start-up: first-use costs
        _pydicom_once(path)
        viewer, floor, reader, paint = [], [], [], []
        for _ in range(repeats):
            viewer.append(_open_once(window, path, paint))
            floor.append(_pydicom_once(path))
            reader.append(_reader_once(path))
        shape = window.image_view.rad.pixels.shape
        emit(result("open_to_pixels", median(viewer) * 1000, "ms", median(floor) * 1000, "ratio <= 1.5",
                    case=name.removesuffix(".dcm"), pixels=f"{shape[1]}x{shape[0]}",
                    baseline_is="pydicom dcmread + pixel_array",
                    read_radiograph_ms=median(reader) * 1000, paint_ms=median(paint) * 1000,
                    **({"first_open_1s_after_start_ms": first * 1000} if first is not None else {}),
                    spread_ms=[round(min(viewer) * 1000, 1), round(max(viewer) * 1000, 1)]))
    window.close()


def _frame_3000() -> np.ndarray:
    """A real CR (RG1) resampled to 3000 x 3000, still 16-bit modality values."""
    import cv2

    from cxviewer.imaging import read_radiograph

    pixels = read_radiograph(DICOM_DIR / "RG1_UNCR.dcm").pixels
    return cv2.resize(pixels, (3000, 3000), interpolation=cv2.INTER_LINEAR)


def window_level_frame(repeats: int, steps: int = 20, **_) -> None:
    import cv2

    from cxviewer.imaging import Radiograph, apply_voi

    pixels = _frame_3000()
    rad = Radiograph(path=Path("bench-3000.dcm"), pixels=pixels)
    window = main_window()
    view = window.image_view
    view.set_radiograph(rad)
    settle(100)
    c0, w0 = view.window.center, view.window.width
    u8 = apply_voi(pixels, (c0, w0))
    lut = np.arange(256, dtype=np.uint8)[::-1].copy()

    def lut_pass() -> float:
        t0 = time.perf_counter()
        cv2.LUT(u8, lut)
        return time.perf_counter() - t0

    for case, setup in (("fit", view.fit), ("1:1", view.zoom_1to1)):
        setup()
        settle(100)
        viewport = view.graphics.viewport()
        state = {"i": 0}

        def step() -> float:
            state["i"] += 1
            i = state["i"]
            t0 = time.perf_counter()
            view.set_window(c0 + (i % 7) * 10.0, w0 + (i % 5) * 10.0)
            viewport.repaint()
            return time.perf_counter() - t0

        for _ in range(3):
            step(), lut_pass()
        ours, floor = [], []
        for _ in range(max(repeats, 1) * steps):
            ours.append(step())
            floor.append(lut_pass())
        emit(result("window_level_frame", median(ours) * 1000, "ms", median(floor) * 1000, "ratio <= 4",
                    case=case, display_level=view.display_level, viewport=f"{viewport.width()}x{viewport.height()}",
                    frame="3000x3000 uint16", baseline_is="cv2.LUT over 3000x3000 uint8",
                    p90_ms=round(float(np.percentile(ours, 90)) * 1000, 2)))
    window.close()


def candidates(folder: Path) -> list[Path]:
    """Real CR radiographs: every shared DICOM above thumbnail size, copied five times under distinct
    names (the viewer keys images by path), so 50 opens are 50 full-size films."""
    import shutil

    originals = [p for p in sorted(DICOM_DIR.glob("*.dcm")) if p.stat().st_size > 50_000]
    out = []
    for i in range(5):
        for src in originals:
            dst = folder / f"{src.stem}_{i}.dcm"
            shutil.copyfile(src, dst)
            out.append(dst)
    return out


def memory_50_images(repeats: int, **_) -> None:
    window = main_window()
    settle(200)
    before = rss_mb()
    shown: list[Path] = []
    megapixels: list[float] = []
    tmp = tempfile.TemporaryDirectory(prefix="cxbench-mem-")
    files = candidates(Path(tmp.name))
    t0 = time.perf_counter()
    for path in files:
        # Loader signals arrive in order: the image is on screen once its batch has finished.
        wait_for(window.loader.signals.batchFinished, trigger=lambda p=path: window.open_paths([p]))
        if window.current_path == path:
            window.image_view.graphics.viewport().repaint()
            shown.append(path)
            megapixels.append(window.image_view.rad.pixels.size / 1e6)
        if len(shown) == 50:
            break
    settle(300)
    elapsed = time.perf_counter() - t0
    assert len(shown) == 50, f"only {len(shown)} images could be shown"
    emit(result("memory_50_images", peak_rss_mb(), "MB", None, None,
                rss_before_mb=before, rss_after_mb=rss_mb(), cached_images=len(window.cache),
                cache_mb=round(window.cache.nbytes / 2**20, 1),
                cache_budget_mb=int(window.settings["cache_mb"]), seconds_for_50=elapsed,
                images=f"50 DICOM CRs ({len({p.stem[:-2] for p in shown})} distinct films, "
                       f"{sum(megapixels):.0f} megapixels in all), opened one after another"))
    window.close()
    tmp.cleanup()

