"""The films in the main window: opening files and folders (in the background, through the
loader), the loader's results in the study browser, and putting one film on screen (or saying why
it cannot be shown). ``WindowFilms`` is a part of ``MainWindow`` (the loader, cache, views and
browsers are the window's); ``currentImageChanged`` announces every film put on screen.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

from cxviewer import paths
from cxviewer.ui.studies.image_entry import ImageEntry

log = logging.getLogger(__name__)


class WindowFilms:
    """Opening, loading and showing films, for ``MainWindow``."""

    def open_paths(self, paths_: list, remember: bool = True) -> int | None:
        """Open files and folders (in the background); returns the loader batch id."""
        items = [Path(p) for p in paths_ if str(p)]
        if not items:
            return None
        if remember:
            for p in items:
                if p.exists():
                    self.settings.add_recent("folders" if p.is_dir() else "files", p.resolve())
        batch = self.loader.load(items)
        self._batches[batch] = {"shown": False, "ok": 0, "failed": 0, "non_image": []}
        self.status.showMessage("Looking for images\N{HORIZONTAL ELLIPSIS}")
        return batch

    def open_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open images", self.settings["last_dir"],
            "Radiographs (*.dcm *.dicom *.png *.jpg *.jpeg *.webp *.tif *.tiff);;All files (*)")
        if files:
            self.settings["last_dir"] = str(Path(files[0]).parent)
            self.open_paths(files)

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder", self.settings["last_dir"])
        if folder:
            self.settings["last_dir"] = folder
            self.open_paths([folder])

    def open_sample(self) -> None:
        self.open_paths([paths.sample_study()], remember=False)

    def close_all(self) -> None:
        self.loader.cancel_all()
        # what the cancelled loads still send (the film decoding now, signals already queued) and a re-read in flight
        # belong to nothing on screen any more: dropped when they arrive
        self._batches.clear()
        self._pending_path = None
        self.study_browser.clear()
        self.cache.clear()
        self.current_path = None
        self.image_view.set_radiograph(None)
        self.tag_browser.set_dataset(None)
        self.status.clear_image_fields()
        self.currentImageChanged.emit(None)

    # loader results --------------------------------------------------------
    def _on_batch_started(self, batch: int, total: int) -> None:
        self.status.start_progress(total)

    def _on_loaded(self, batch: int, entry: ImageEntry, rad: Any) -> None:
        info = self._batches.get(batch)
        if info is None:  # a load closed with "Close all"
            return
        self.study_browser.add_entry(entry)
        self.cache.put(entry.path, rad)
        info["ok"] += 1
        if not info["shown"]:  # the first decoded image appears at once
            info["shown"] = True
            self.show_image(entry.path)

    def _on_failed(self, batch: int, entry: ImageEntry) -> None:
        if batch not in self._batches:  # a load closed with "Close all"
            return
        self.study_browser.add_entry(entry)
        log.warning("cannot read %s: %s", entry.path, entry.error)
        self._batches[batch]["failed"] += 1

    def _on_non_image(self, batch: int, entry: ImageEntry) -> None:
        """A report, presentation state or PDF among the films: counted in one quiet browser row."""
        if batch not in self._batches:  # a load closed with "Close all"
            return
        self.study_browser.add_entry(entry)
        self._batches[batch]["non_image"].append(entry.non_image)

    def _on_batch_finished(self, batch: int, cancelled: bool) -> None:
        info = self._batches.pop(batch, None)
        if not self._batches:
            self.status.finish_progress()
        if info is None:  # closed with "Close all": nothing of it is on screen, nothing to say
            return
        if self.current_path is not None:  # shown as the first of its series arrived: "Im 1/3" now
            self.image_view.set_position_text(self.series_position(self.current_path))
        msg = f"Opened {info['ok']} image{'s' if info['ok'] != 1 else ''}"
        if info["failed"]:
            msg += f", {info['failed']} file{'s' if info['failed'] != 1 else ''} could not be read"
        if cancelled:
            msg += " (cancelled)"
        if not info["ok"] and not info["failed"]:
            msg = "No images found"
        kinds = info.get("non_image", [])
        if kinds:
            n = len(kinds)
            msg += (f"; {n} non-image object{'s' if n != 1 else ''} ("
                    f"{', '.join(sorted(set(kinds)))}) not shown")
        if not info["ok"] and not info["failed"] and not kinds:
            msg += "."
        self.status.showMessage(msg, 15000)

    def _on_reread(self, path: Path, rad: Any, error: str | None) -> None:
        if rad is not None:
            self.cache.put(path, rad)
            if path == self._pending_path:
                self._pending_path = None
                self.show_image(path)
        elif path == self._pending_path:
            self._pending_path = None
            self._show_failure(path, f"Cannot read {path.name} again", error or "")

    def show_image(self, path: Path) -> None:
        """Put ``path`` on screen: from the cache, or read again in the background."""
        path = Path(path)
        rad = self.cache.get(path)
        if rad is None:
            self._pending_path = path
            self.status.showMessage(f"Reading {path.name}\N{HORIZONTAL ELLIPSIS}")
            self.loader.reread(path)
            return
        self._pending_path = None  # a re-read still in flight for another film must not replace this one
        self.current_path = path
        self.status.clear_image_fields()  # the last film's x/y and value do not belong to this one
        self.image_view.hide_message()
        self.image_view.set_radiograph(rad)
        self.tag_browser.set_dataset(rad.header)
        self.study_browser.select_path(path)
        self.image_view.set_position_text(self.series_position(path))
        self.setWindowTitle(f"{path.name} \N{EM DASH} CXViewer")
        self._fill_window_menu()
        if self.active_view is not self.image_view:  # the readouts stay the active viewport's
            self._show_readouts()
        self.currentImageChanged.emit(rad)

    def series_position(self, path: Path) -> str:
        """E.g. "Im 2/5": where ``path`` sits in its series ("" for a series of one)."""
        series = self.study_browser.model.series_paths(path)
        return f"Im {series.index(path) + 1}/{len(series)}" if len(series) > 1 and path in series else ""

    def _show_error_entry(self, entry: ImageEntry) -> None:
        self._show_failure(entry.path, f"Cannot display {entry.path.name}", entry.error or "")

    def _show_failure(self, path: Path, title: str, error: str) -> None:
        """A film that cannot be shown: nothing of the previous film stays (image, corners, tags, readouts)."""
        self._pending_path = None
        self.current_path = None
        self.image_view.set_radiograph(None)
        self.image_view.set_position_text("")
        self.tag_browser.set_dataset(None)
        self.status.clear_image_fields()
        self.setWindowTitle("CXViewer")
        detail = error[len(path.name) + 2:] if error.startswith(f"{path.name}: ") else error
        self.image_view.show_message(f"{title}\n\n{detail}")
        # the reader's message often names the file already: say the name once
        self.status.showMessage(error if path.name in error else f"{path.name}: {error}", 15000)
        self.currentImageChanged.emit(None)

    def step_image(self, step: int) -> None:
        """Previous (-1) / next (+1) image in the current series."""
        if self.current_path is None:
            return
        series = self.study_browser.model.series_paths(self.current_path)
        if self.current_path not in series:
            return
        i = series.index(self.current_path) + step
        if 0 <= i < len(series):
            self.show_image(series[i])
