"""Benchmark (run explicitly: pytest tests/benchmarks/test_ui_window_level_bench.py -s): time of one
window/level step on a 9-megapixel frame, display included, fitted (downsampled) and at 1:1."""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402


def test_window_level_step_on_9_megapixels(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CXVIEWER_HOME", str(tmp_path))
    from cxviewer.imaging import Radiograph, apply_voi
    from cxviewer.ui.viewer.image_view import ImageView

    pixels = (np.random.default_rng(0).random((3000, 3000)) * 4000).astype(np.uint16)
    rad = Radiograph(path=Path("bench.dcm"), pixels=pixels)
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(1200, 900)
    view.show()
    qtbot.waitExposed(view)
    view.set_radiograph(rad)
    results = {}
    for label, setup in (("fitted", view.fit), ("1:1", view.zoom_1to1)):
        setup()
        n = 30
        t0 = time.perf_counter()
        for i in range(n):
            view.set_window(2000 + 10 * i, 3000 + 5 * i)
            view.graphics.viewport().repaint()
        results[label] = ((time.perf_counter() - t0) / n * 1000, view.display_level)
    for label, (ms, level) in results.items():
        print(f"W/L step, {label} (display level {level}): {ms:.1f} ms")
    assert results["fitted"][1] > 1 and results["1:1"][1] == 1
    assert np.array_equal(view.displayed_image(), apply_voi(pixels, (view.window.center, view.window.width)))
