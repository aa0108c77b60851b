"""The study browser's AI column: every opened film analysed in the background, its answer shown as it arrives.

Each film the loader reads is queued on the inference service's background queue (the worker takes
it only while no on-screen request waits), and the answer for the film on screen fills its cell too.
The analysis runs on the inference worker; the GUI thread only writes a word into a cell. The column
reads the call ("COVID-19", "Normal"...), "Uncertain", "Out of scope" or "Error", and is blank until the
film has been analysed; clicking its header sorts the list by it, the most notable films first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from cxviewer.no_call import no_call_text
from cxviewer.ui.studies.model import StudyModel

MAX_QUEUED_RADIOGRAPHS = 8  # films queued with their decoded pixels; beyond, by path (read again when their turn comes)


def verdict(prediction) -> tuple[str, int, str]:
    """(cell text, sort rank, tooltip) for a Prediction: a called class ranks by its place among the model's
    labels, then uncertain, then out of scope (errors rank after them: see :func:`error_verdict`)."""
    n = len(prediction.labels)
    if not prediction.in_scope:
        return "Out of scope", n + 1, prediction.scope_text
    ranked = sorted(zip(prediction.labels, prediction.probabilities), key=lambda lp: -lp[1])
    figures = ", ".join(f"{prediction.name(label)} {p * 100:.0f} %" for label, p in ranked)
    if prediction.call == "uncertain":
        return "Uncertain", n, f"No call: {no_call_text(prediction.call_note)}. {figures}"
    called = prediction.call or prediction.label
    return prediction.name(called), prediction.labels.index(called), figures


def error_verdict(message: str, n_labels: int) -> tuple[str, int, str]:
    return "Error", n_labels + 2, message


class StudyAI(QObject):
    """Connects the loader, the inference service and the study model (see the module's docstring)."""

    def __init__(self, model: StudyModel, service, loader_signals, parent: QObject | None = None):
        super().__init__(parent)
        self.model = model
        self.service = service
        self._labels = 3  # until the first answer says how many classes the model has
        self._answered: set[str] = set()
        loader_signals.loaded.connect(self._on_loaded)
        service.result.connect(self._on_prediction)
        service.backgroundResult.connect(self._on_prediction)
        service.failed.connect(self._on_failed)
        service.backgroundFailed.connect(self._on_failed)
        service.reset.connect(self._on_reset)
        model.rowsRemoved.connect(self._on_rows_removed)

    def _on_loaded(self, _batch: int, entry, rad) -> None:
        key = str(entry.path)
        if key in self._answered:
            return
        # a few films travel with their pixels (no second read); the rest are read again on the worker
        source = rad if rad is not None and self.service.background_queued() < MAX_QUEUED_RADIOGRAPHS else str(entry.path)
        self.service.queue_background(key, source)

    def _on_prediction(self, key: str, prediction) -> None:
        self._labels = len(prediction.labels)
        text, rank, tip = verdict(prediction)
        if self.model.set_ai(Path(key), text, rank, tip):
            self._answered.add(key)

    def _on_failed(self, key: str, message: str) -> None:
        text, rank, tip = error_verdict(message, self._labels)
        if self.model.set_ai(Path(key), text, rank, tip):
            self._answered.add(key)

    def _on_reset(self) -> None:
        """Another model: every answer is void; the open films are analysed again, by path."""
        self._answered.clear()
        self.model.clear_ai()
        for path, entry in list(self.model.entries.items()):
            if entry.ok:
                self.service.queue_background(str(path), str(path))

    def _on_rows_removed(self, parent, _first: int, _last: int) -> None:
        if not parent.isValid() and self.model.rowCount() == 0:  # the browser was cleared
            self.service.drop_background()
            self._answered.clear()


def install_study_ai(window, service) -> StudyAI:
    """Fill ``window``'s study browser AI column from ``service`` (an InferenceService)."""
    browser = window.study_browser
    study_ai = StudyAI(browser.model, service, window.loader.signals, parent=window)
    return study_ai
