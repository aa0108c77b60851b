"""Event-loop stalls while the AI worker analyses the radiograph on screen.

The viewer is assembled as ``run_gui`` does (main window + AI panel), the Grad-CAM overlay is on,
and a 5 ms precise QTimer records when the GUI thread gets to run. A stall is the longest gap
between two ticks: while the AI panel is built and its worker loads the model and runs it once
(``start_up_preload``), and from the moment an image is on screen until its result is drawn
(``first_request``: the first film after start-up; ``steady``). The baseline is the same timer with
nothing running: on a loaded 2-core machine the scheduler alone makes gaps.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer

from common import DICOM_DIR, emit, median, model_dir, result, skipped
from qt_support import main_window, settle, wait_for

TICK_MS = 5
STEADY_FILES = ("RG1_J2KR.dcm", "RG2_J2KR.dcm", "RG1_JLSN.dcm", "RG2_JLSL.dcm", "RG2_RLE.dcm",
                "RG2_JPLL.dcm", "RG1_J2KI.dcm", "RG3_JLSN.dcm", "CR-MONO1-10-chest.dcm",
                "CR-ModalitySequenceLUT.dcm", "RG2_JPLY.dcm", "RG3_J2KI.dcm")


class Ticker:
    def __init__(self):
        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def start(self) -> None:
        self.times = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> np.ndarray:
        self.timer.stop()
        self.times.append(time.perf_counter())
        return np.diff(self.times) * 1000.0


def _analyse(window, service, ticker: Ticker, path: Path, timeout_s: float) -> tuple[np.ndarray, float]:
    """Open ``path``; tick from the frame on screen until ``service``'s result is drawn. (gaps ms, seconds)."""
    key = str(path)
    times: dict[str, float] = {}

    def on_screen(rad) -> None:  # the AI controller has just submitted this image (imageChanged)
        if rad is not None and str(rad.path) == key and not times:
            ticker.start()
            times["shown"] = time.perf_counter()

    window.currentImageChanged.connect(on_screen)
    try:
        wait_for(service.result, lambda k, _p: k == key, timeout_s=timeout_s,
                 trigger=lambda: window.open_paths([path]))
    finally:
        window.currentImageChanged.disconnect(on_screen)
    elapsed = time.perf_counter() - times["shown"]
    settle(100)  # the overlay and panel repaint
    return ticker.stop(), elapsed


def ui_stall_during_inference(repeats: int, model: str | None = None, **_) -> None:
    target = "value <= 50"
    folder = model_dir(model)
    if folder is None:
        emit(skipped("ui_stall_during_inference", "ms", target, "no model installed"))
        return
    from cxviewer.ui.ai.controller import install_ai_panel

    window = main_window()
    ticker = Ticker()
    ticker.start()  # from before the AI panel exists: its worker loads and runs the model once at start-up
    started = time.perf_counter()
    controller = install_ai_panel(window)
    if model:
        controller.service.set_model(folder)
    controller.panel.set_overlay_checked(True)
    while controller.service.preloaded is None and time.perf_counter() - started < 900:
        settle(20)
    preload_s = time.perf_counter() - started
    settle(200)
    startup = ticker.stop()

    ticker.start()
    settle(3000)
    idle = ticker.stop()
    floor = float(idle.max())
    emit(result("ui_stall_during_inference", float(startup.max()), "ms", floor, target, case="start_up_preload",
                includes="AI panel built, runtime import + model load + one run on a made-up film on the worker",
                seconds_to_ready=preload_s, preloaded=controller.service.preloaded,
                gaps_over_50ms=int((startup > 50).sum()), model=controller.service.model_title,
                baseline_is=f"longest gap of the same {TICK_MS} ms timer, idle, 3 s"))

    gaps, load_s = _analyse(window, controller.service, ticker, DICOM_DIR / "RG1_UNCR.dcm", timeout_s=900)
    assert controller.overlay.heatmap is not None
    emit(result("ui_stall_during_inference", float(gaps.max()), "ms", floor, target, case="first_request",
                includes="the first film after start-up: inference + Grad-CAM + drawing (the model was loaded and "
                         "run once at start-up: case start_up_preload)",
                seconds_to_result=load_s, gaps_over_50ms=int((gaps > 50).sum()), model=controller.service.model_title,
                baseline_is=f"longest gap of the same {TICK_MS} ms timer, idle, 3 s"))

    worst, seconds, over = [], [], 0
    for name in STEADY_FILES[:max(1, repeats)]:
        gaps, s = _analyse(window, controller.service, ticker, DICOM_DIR / name, timeout_s=300)
        worst.append(float(gaps.max()))
        seconds.append(s)
        over += int((gaps > 50).sum())
    emit(result("ui_stall_during_inference", median(worst), "ms", floor, target, case="steady",
                includes="inference + Grad-CAM on the worker, result and overlay drawn",
                worst_of_all_ms=max(worst), seconds_to_result=median(seconds), images=len(worst),
                gaps_over_50ms=over, baseline_is=f"longest gap of the same {TICK_MS} ms timer, idle, 3 s"))
    controller.service.shutdown()
    window.close()
