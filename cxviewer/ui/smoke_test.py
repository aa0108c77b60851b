"""``cxviewer --smoke-test``: a whole-application check for builds and installers.

Opens the bundled sample in the real window, waits until the image has been drawn (the view's
pixels are grabbed and must not be blank) and, when a model is installed, until the classifier has
answered; then prints one JSON line per step on stdout and quits. Exit code 0 when everything
worked, 1 on any failure or after ``CXVIEWER_SMOKE_TIMEOUT_S`` seconds (default 300). Runs without
a display under ``QT_QPA_PLATFORM=offscreen``; the desktop bundle's test uses it.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from cxviewer import paths


def _grey(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * image.height())
    return rows.reshape(image.height(), image.bytesPerLine())[:, : image.width()].copy()


class SmokeTest(QObject):
    def __init__(self, window, inference=None):
        super().__init__(window)
        self.window = window
        self.t0 = time.perf_counter()
        self.drawn = False
        self.result: dict | None = None
        from cxviewer.model import available_models

        self.expect_ai = bool(available_models()) and inference is not None
        self._report("start", models=[c.name for c in available_models()], platform=QApplication.platformName())
        window.currentImageChanged.connect(self._on_image)
        window.loader.signals.failed.connect(
            lambda _batch, entry: self._finish(1, "the sample could not be read", detail=str(entry.error)))
        if self.expect_ai:
            inference.result.connect(self._on_prediction)
            inference.failed.connect(lambda _key, msg: self._finish(1, "the classifier failed", detail=msg))
        timeout = float(os.environ.get("CXVIEWER_SMOKE_TIMEOUT_S", "300"))
        QTimer.singleShot(int(timeout * 1000), lambda: self._finish(1, f"timed out after {timeout:g} s"))
        QTimer.singleShot(0, lambda: self._report(
            "window", visible=window.isVisible(), icon_sizes=[s.width() for s in window.windowIcon().availableSizes()]))
        window.open_sample()

    def _report(self, event: str, **fields) -> None:
        line = {"event": event, "t_s": round(time.perf_counter() - self.t0, 3), **fields}
        print("smoke-test " + json.dumps(line), flush=True)

    def _on_image(self, rad) -> None:
        if rad is None or self.drawn:
            return
        QTimer.singleShot(0, self._check_drawn)  # after the view has repainted

    def _check_drawn(self) -> None:
        rad = self.window.image_view.rad
        grey = _grey(self.window.image_view.grab().toImage())
        self.drawn = grey.size > 0 and float(grey.std()) > 5.0
        self._report("image", file=str(rad.path), shape=list(rad.pixels.shape), modality=rad.modality,
                     view_std=round(float(grey.std()), 1), drawn=self.drawn)
        if not self.drawn:
            self._finish(1, "the image view stayed blank")
        elif not self.expect_ai or self.result is not None:
            self._finish(0, "ok")

    def _on_prediction(self, _key: str, prediction) -> None:
        self.result = prediction.as_dict()
        self._report("prediction", **self.result)
        if self.drawn:
            self._finish(0, "ok")

    def _finish(self, code: int, message: str, **fields) -> None:
        self._report("done", code=code, message=message, **fields)
        for w in QApplication.topLevelWidgets():
            w.close()
        QApplication.instance().exit(code)
        sys.stdout.flush()


def install_smoke_test(window, inference=None) -> SmokeTest:
    """Open the bundled sample in ``window`` and quit once it is drawn (and classified by ``inference``,
    when given and a model is installed)."""
    if not paths.sample_study().is_file():
        raise SystemExit(f"smoke test: the bundled sample is missing ({paths.sample_study()})")
    window.smoke_test = SmokeTest(window, inference)  # kept alive with the window
    return window.smoke_test
