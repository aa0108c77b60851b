"""Batch scan dialog: choose folders, start, watch progress, cancel; results fill the table as they come.

The scan engine (``cxviewer.scan.run_scan``) runs on a QThread worker; rows and progress come back
as Qt signals, so the viewer stays usable (the dialog is not modal). Each row is also appended,
flushed, to a journal CSV in the user's data folder (``scans/``, the newest ``KEEP_JOURNALS`` kept),
so a night's scan survives a crash or a closed dialog; exports go where the user says, never into
a scanned folder.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from cxviewer.ui.scan.results_table import ScanResultsView

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1
KEEP_JOURNALS = 20


def new_journal_path() -> Path:
    """A fresh ``scans/scan-YYYYmmdd-HHMMSS.csv`` in the user's data folder; old journals beyond the newest
    ``KEEP_JOURNALS`` are removed."""
    from cxviewer import paths

    folder = paths.private_dir(paths.user_data_dir() / "scans")
    old = sorted(folder.glob("scan-*.csv"))
    for stale in old[: max(0, len(old) - (KEEP_JOURNALS - 1))]:
        stale.unlink(missing_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = folder / f"scan-{stamp}.csv", 1
    while path.exists():
        n += 1
        path = folder / f"scan-{stamp}-{n}.csv"
    return path


class ScanWorker(QObject):
    """Runs one scan on its thread. ``cancel()`` may be called from any thread."""

    modelLoading = Signal()
    resultReady = Signal(object)  # ScanResult
    progressed = Signal(object)  # dict: examined, total, ok, errors, out_of_scope, rate, eta_s
    finished = Signal(object)  # ScanSummary
    failed = Signal(str)

    def __init__(self, roots, *, recursive=True, use_model=True, model_dir=None, workers=None, classifier=None,
                 journal: Path | None = None):
        super().__init__()
        self.journal = journal
        self.roots = [Path(r) for r in roots]
        self.recursive = recursive
        self.use_model = use_model
        self.model_dir = model_dir
        self.workers = workers
        self.classifier = classifier
        self._cancel = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, p) -> None:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        self._emit_progress(p)

    def _emit_progress(self, p) -> None:
        self.progressed.emit(
            {
                "examined": p.examined,
                "total": p.total,
                "ok": p.ok,
                "errors": p.errors,
                "out_of_scope": p.out_of_scope,
                "not_in_table": p.ignored + p.already_done,  # examined files that make no row
                "rate": p.rate,
                "eta_s": p.eta_s,
            }
        )

    @Slot()
    def run(self) -> None:
        from cxviewer.scan import ScanOptions, run_scan
        from cxviewer.scan.pipeline import default_workers

        try:
            classifier = self.classifier
            if self.use_model and classifier is None:
                self.modelLoading.emit()
                from cxviewer.model import load_classifier

                classifier = load_classifier(self.model_dir)
            if self._cancel.is_set():
                raise _Cancelled
            options = ScanOptions(recursive=self.recursive, workers=self.workers or default_workers())
            sink = self.resultReady.emit
            writer = None
            if self.journal is not None:
                from cxviewer.files.privacy import holds_patient_data
                from cxviewer.scan.results import CsvResultWriter

                writer = CsvResultWriter(self.journal, private=holds_patient_data())  # patient IDs: owner only

                def sink(result, _emit=self.resultReady.emit):
                    writer.write(result)  # on disk first: a crash after this loses nothing
                    _emit(result)

            try:
                summary = run_scan(
                    self.roots,
                    sink,
                    classifier=classifier if self.use_model else None,
                    options=options,
                    cancel=self._cancel,
                    on_progress=self._progress,
                )
            finally:
                if writer is not None:
                    writer.close()
        except _Cancelled:
            self.failed.emit("Cancelled before the scan started.")
            return
        except Exception as exc:  # the model cannot be loaded, a results sink failed...
            self.failed.emit(f"The scan stopped: {exc}")
            return
        self.finished.emit(summary)


class _Cancelled(Exception):
    pass


def _models_installed() -> bool:
    try:
        from cxviewer.model import available_models

        return bool(available_models())
    except Exception:
        return False


class BatchScanDialog(QDialog):
    """Folders to scan, options, progress, and the results table."""

    openRequested = Signal(str)  # a path the user double-clicked
    scanFinished = Signal(object)  # ScanSummary (not emitted when the scan failed)

    def __init__(self, parent=None, *, classifier=None, settings=None):
        super().__init__(parent)
        # the viewer's settings (last_dir: where the folder picker starts); the main window's by default
        self.settings = settings if settings is not None else getattr(parent, "settings", None)
        self._counts = {"ok": 0, "error": 0, "out_of_scope": 0}
        self._last_progress: dict | None = None
        self.setWindowTitle("Batch scan")
        self.setModal(False)
        self.resize(1000, 640)
        self._classifier = classifier
        self._thread: QThread | None = None
        self._worker: ScanWorker | None = None

        self.folder_list = QListWidget()
        self.folder_list.setToolTip("Folders (and files) to scan")
        self.add_button = QPushButton("Add folder...")
        self.remove_button = QPushButton("Remove")
        self.recursive_box = QCheckBox("Include subfolders")
        self.recursive_box.setChecked(True)
        self.model_box = QCheckBox("Classify with the model")
        has_model = classifier is not None or _models_installed()
        self.model_box.setChecked(has_model)
        self.model_box.setEnabled(has_model)
        if not has_model:
            self.model_box.setToolTip("No model is installed: files are checked (readable, in scope) only")
        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setVisible(False)
        self.status_label = QLabel("Add the folders to scan, then Start.")
        self.results = ScanResultsView()
        self.journal_path: Path | None = None
        self.journal_label = QLabel("")
        self.journal_label.setObjectName("scanJournal")
        self.journal_label.setWordWrap(True)
        self.journal_label.setTextInteractionFlags(self.journal_label.textInteractionFlags() | Qt.TextInteractionFlag.TextSelectableByMouse)

        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        folders = QHBoxLayout()
        folders.addWidget(self.folder_list, 1)
        folders.addLayout(buttons)
        options = QHBoxLayout()
        options.addWidget(self.recursive_box)
        options.addWidget(self.model_box)
        options.addStretch(1)
        options.addWidget(self.start_button)
        options.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(folders)
        layout.addLayout(options)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.journal_label)
        layout.addWidget(self.results, 1)
        self.folder_list.setMaximumHeight(110)

        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.results.openRequested.connect(self.openRequested)

    # folders -------------------------------------------------------------------------------
    def add_paths(self, paths) -> None:
        present = set(self.paths())
        for p in paths:
            p = str(Path(p))
            if p not in present:
                self.folder_list.addItem(p)
                present.add(p)

    def paths(self) -> list[str]:
        return [self.folder_list.item(i).text() for i in range(self.folder_list.count())]

    def start_dir(self) -> str:
        """Where the folder picker opens: the last folder chosen (saved in the settings), else home."""
        last = self._setting("last_dir")
        return last if last and Path(last).is_dir() else str(Path.home())

    def _setting(self, key: str):
        try:
            return self.settings[key] if self.settings is not None else None
        except (KeyError, TypeError):
            return None

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to scan", self.start_dir())
        if folder:
            self.add_paths([folder])
            if self.settings is not None:
                self.settings["last_dir"] = folder  # the next pick starts here (as File > Open folder does)
                save = getattr(self.settings, "save", None)
                if save is not None:
                    try:
                        save()  # also for the next session, should the viewer not close cleanly
                    except OSError as exc:
                        log.warning("batch scan: cannot save the settings: %s", exc)

    def _remove_selected(self) -> None:
        for item in self.folder_list.selectedItems():
            self.folder_list.takeItem(self.folder_list.row(item))

    # running -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> bool:
        """Start scanning the listed paths; False (with a message) when there is nothing valid to scan."""
        from cxviewer.scan import ScanSetupError, check_inputs

        if self.running:
            return False
        try:
            roots = check_inputs(self.paths())
        except ScanSetupError as exc:
            self.status_label.setText(str(exc).capitalize() + ".")
            return False
        self.results.clear()
        self._counts = {"ok": 0, "error": 0, "out_of_scope": 0}
        self._last_progress = None
        self.results.protected_roots = roots
        try:
            self.journal_path = new_journal_path()
        except OSError as exc:  # an unwritable data folder must not stop the scan: the table still fills
            self.journal_path = None
            self.journal_label.setText(f"Results are not saved automatically ({exc}); export them when done.")
        else:
            self.journal_label.setText(f"Every row is also saved as it comes to {self.journal_path}")
        worker = ScanWorker(
            roots,
            recursive=self.recursive_box.isChecked(),
            use_model=self.model_box.isChecked(),
            classifier=self._classifier,
            journal=self.journal_path,
        )
        thread = QThread(self)
        thread.setObjectName("cxviewer-batch-scan")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.modelLoading.connect(lambda: self.status_label.setText("Loading the model..."))
        worker.resultReady.connect(self._add_result)
        worker.progressed.connect(self._show_progress)
        worker.finished.connect(self._finished)
        worker.failed.connect(self._failed)
        # quit straight from the worker's thread (QThread.quit is thread-safe): queued to this thread, it would wait
        # for the GUI's event loop, and a wait() here for the thread's end could never be met
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._thread_done)
        self._worker, self._thread = worker, thread
        self._set_running(True)
        self.status_label.setText("Scanning...")
        thread.start()
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.status_label.setText("Cancelling...")
            self.cancel_button.setEnabled(False)

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until the worker thread has ended (tests, closing the dialog)."""
        return self._thread.wait(timeout_ms) if self._thread is not None else True

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.add_button.setEnabled(not running)
        self.remove_button.setEnabled(not running)
        self.recursive_box.setEnabled(not running)
        self.model_box.setEnabled(not running and (self._classifier is not None or _models_installed()))
        self.progress_bar.setVisible(running)
        if running:
            self.progress_bar.setRange(0, 0)

    def _add_result(self, result) -> None:
        self.results.add_result(result)
        if result.status in self._counts:
            self._counts[result.status] += 1
        self._show_counts()

    def _show_progress(self, p: dict) -> None:
        self._last_progress = p
        self._show_counts()

    def _show_counts(self) -> None:
        """The counter counts the rows in the table (the engine's progress comes at most every
        PROGRESS_INTERVAL_S and lagged behind it: "97 of 427" beside "112 of 112 shown"); the total,
        rate and time left come from the engine."""
        from cxviewer.scan.progress import format_duration

        p = self._last_progress or {}
        rows = self.results.model.rowCount()
        # files that make no row (not images, done by an earlier run) come only with the engine's report
        examined = max(p.get("examined", 0), rows + p.get("not_in_table", 0))
        total = p.get("total")
        if total:
            total = max(total, examined)
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(examined)
        c = self._counts
        text = (f"{examined} of {'?' if total is None else total} files examined: {rows} in the table "
                f"({c['ok']} ok, {c['error']} error(s), {c['out_of_scope']} out of scope)")
        if p.get("rate"):
            text += f" - {p['rate']:.1f} files/s, about {format_duration(p.get('eta_s'))} left"
        self.status_label.setText(text)

    def _finished(self, summary) -> None:
        self.results.fit_columns()
        self.status_label.setText(summary.text())
        self.scanFinished.emit(summary)

    def _failed(self, message: str) -> None:
        self.status_label.setText(message)

    def _thread_done(self) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        self._set_running(False)
        if worker is not None:
            worker.deleteLater()
        if thread is not None:
            thread.deleteLater()

    def closeEvent(self, event) -> None:
        # closing the dialog stops the scan without waiting for the batch in flight (up to a model load): the
        # dialog is only hidden (its window keeps it), and the thread ends on its own (``_thread_done``)
        if self.running:
            self.cancel()
        super().closeEvent(event)

    def quit(self, timeout_ms: int) -> None:
        """The window closes (the app quits): stop the scan and wait at most ``timeout_ms`` for its thread."""
        if self.running:
            self.cancel()
            self.wait(timeout_ms)


def _open_in_window(window, path: str) -> None:
    window.open_paths([path])  # MainWindow.open_paths: loads in the background, shows the image
    window.raise_()
    window.activateWindow()


def install_batch_action(window) -> QAction:
    """Add Tools > Batch scan... to a main window; the dialog opens double-clicked files in that window."""
    menu_bar = window.menuBar()
    tools = next(
        (a.menu() for a in menu_bar.actions() if a.menu() is not None and a.text().replace("&", "") == "Tools"),
        None,
    )
    if tools is None:
        tools = menu_bar.addMenu("&Tools")
    action = QAction("&Batch scan...", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+B"))
    action.setStatusTip("Triage every radiograph under some folders")

    def show():
        dialog = getattr(window, "_batch_scan_dialog", None)
        if dialog is None:
            dialog = BatchScanDialog(window)
            dialog.openRequested.connect(lambda p: _open_in_window(window, p))
            window._batch_scan_dialog = dialog
            if hasattr(window, "add_close_hook"):
                from cxviewer.ui.main_window import QUIT_WAIT_MS

                window.add_close_hook(lambda: dialog.quit(QUIT_WAIT_MS))
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    action.triggered.connect(show)
    tools.addAction(action)
    window.addAction(action)  # the shortcut works with the menu bar hidden (full screen)
    if isinstance(getattr(window, "actions_by_name", None), dict):
        window.actions_by_name["batch_scan"] = action  # listed in Help > Shortcuts
    return action
