"""Annotate menu entries for DICOM presentation states (GSPS): export the film's annotations into
a folder the reader chooses (with the window on screen and the reader's calibration), import one
from a file (its annotations, its window and its calibration), and apply one found beside the film.

When a film is shown, its folder is looked through (small files only, headers only; off the GUI
thread, an answer for a film no longer on screen is dropped) for a GSPS that references it; the
status bar says so and "Apply presentation state found beside the film"
adds its annotations (one undoable step; ones already there are not added twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from cxviewer import __version__
from cxviewer.annotate.model import CalibrationEdit, Edit
from cxviewer.imaging.spacing import presentation_calibration, scale_for_radiograph

log = logging.getLogger(__name__)


def _gsps():
    """The GSPS core (``cxviewer.annotate.gsps``), imported on first use: it needs pydicom, which the window's
    start-up leaves to the readers (a film named at launch is being read on another thread meanwhile)."""
    from cxviewer.annotate import gsps

    return gsps


class PresentationStateActions:
    def __init__(self, window, tools, choose_folder: Callable[[], str] | None = None,
                 choose_file: Callable[[], str] | None = None):
        self.window = window
        self.tools = tools
        self.choose_folder = choose_folder or self._folder_dialog
        self.choose_file = choose_file or self._file_dialog
        self.found: list[Path] = []  # GSPS files beside the film on screen that reference it
        self._folders: dict[Path, tuple[float | None, dict[Path, set[str]]]] = {}
        self._waiting: tuple[Path, float | None, str] | None = None  # the film on screen's folder, mtime, UID
        self._scanning: dict[Path, float | None] = {}  # folders being looked through (and their mtime)
        window.image_view.imageChanged.connect(self._on_image)
        window.loader.signals.lookedUp.connect(self._on_looked_up, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------ dialogs
    def _folder_dialog(self) -> str:
        return QFileDialog.getExistingDirectory(self.window, "Export presentation state to folder",
                                                self.window.settings["last_dir"])

    def _file_dialog(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import presentation state",
                                              self.window.settings["last_dir"], "DICOM (*.dcm);;All files (*)")
        return path

    def _tell(self, text: str, error: bool = False) -> None:
        self.window.status.showMessage(text, 15000)
        if error:
            log.warning("%s", text)

    # ------------------------------------------------------------ export
    def export(self) -> Path | None:
        c = self.tools.active  # the film in the active viewport
        view = c.view
        if view.rad is None or c.doc is None or not c.doc.annotations:
            self._tell("Nothing to export: draw annotations on a DICOM film first.")
            return None
        folder = self.choose_folder()
        if not folder:
            return None
        labels = {a.uid: c.label_for(a) for a in c.doc.annotations}
        inputs = list(self.window.study_browser.model.entries) + [Path(view.rad.path)]
        gsps = _gsps()
        try:
            ds = gsps.build_presentation_state(view.rad.header, c.doc.annotations, labels,
                                               window=_window_of(view), software_version=__version__,
                                               pixel_spacing=_calibration_of(c.doc.calibration))
            path = gsps.write_presentation_state(ds, Path(folder), inputs)
        except (gsps.PresentationStateError, OSError) as exc:
            self._tell(f"Presentation state not saved: {exc}", error=True)
            if self.choose_folder == self._folder_dialog:  # a reader at the dialog: say it plainly
                QMessageBox.warning(self.window, "Presentation state not saved", str(exc))
            return None
        self._tell(f"Presentation state saved: {path}")
        return path

    # ------------------------------------------------------------ import
    def apply_file(self, path: Path, controller=None) -> int:
        """Add the annotations ``path`` draws on the film of the active viewport (or ``controller``'s);
        returns how many were added."""
        c = controller or self.tools.active
        view = c.view
        if view.rad is None or c.doc is None:
            return 0
        gsps = _gsps()
        try:
            state = gsps.load_presentation_state(Path(path), view.rad.sop_uid)
        except gsps.PresentationStateError as exc:
            self._tell(str(exc), error=True)
            return 0
        annotations, window = state.annotations, state.window
        if window is not None:
            view.set_window(window.center, window.width, f"GSPS {window.explanation}".strip(), window.function)
        new = [a for a in annotations if c.doc.find(a.uid) is None]
        # a Presentation Pixel Spacing other than the film's own is a calibration; without one the
        # film keeps the calibration it has
        calibration = (presentation_calibration(scale_for_radiograph(view.rad), state.pixel_spacing, Path(path).name)
                       if state.pixel_spacing is not None else None)
        if calibration is not None and c.doc.calibration is not None and \
                (c.doc.calibration.row_mm, c.doc.calibration.col_mm) == (calibration.row_mm, calibration.col_mm):
            calibration = None  # the same calibration already
        if new or calibration is not None:
            c.undo_stack.beginMacro(f"Apply presentation state {Path(path).name}")
            if calibration is not None:
                c.push(CalibrationEdit(c.doc.calibration, calibration), "Calibrate")
            for a in new:
                c.push(Edit(None, a), f"Add {a.kind}")
            c.undo_stack.endMacro()
        self._tell(f"{Path(path).name}: {len(new)} annotation{'s' if len(new) != 1 else ''} added"
                   + (f", {len(annotations) - len(new)} already there" if len(new) < len(annotations) else "")
                   + (f"; calibrated to {calibration.col_mm:.4g} mm per pixel" if calibration is not None else ""))
        return len(new)

    def import_file(self) -> int:
        path = self.choose_file()
        return self.apply_file(Path(path)) if path else 0

    def apply_found(self) -> int:
        return sum(self.apply_file(p, self.tools.main) for p in self.found)  # found beside the main film

    def _on_image(self, rad) -> None:
        self.found = []
        self._waiting = None  # an answer still to come for an earlier film is not this one's
        if rad is None or not getattr(rad, "sop_uid", "") or getattr(rad, "path", None) is None:
            self._update_action()
            return
        folder = Path(rad.path).parent
        try:
            stamp = folder.stat().st_mtime
        except OSError:
            stamp = None
        cached = self._folders.get(folder)
        if cached is None or cached[0] != stamp:  # each folder is looked through once until it changes
            self._update_action()
            self._waiting = (folder, stamp, rad.sop_uid)
            if folder not in self._scanning or self._scanning[folder] != stamp:  # once for films in a row
                self._scanning[folder] = stamp
                self.window.loader.look_up(("gsps", folder, stamp), lambda: _gsps().scan_presentation_states(folder))
            return
        self._offer(rad.sop_uid, cached[1])

    def _on_looked_up(self, token, result) -> None:
        if not (isinstance(token, tuple) and token[:1] == ("gsps",)):
            return  # another client's look-up
        _tag, folder, stamp = token
        if self._scanning.get(folder, ()) == stamp:
            del self._scanning[folder]
        waiting, wanted = self._waiting, self._waiting is not None and self._waiting[:2] == (folder, stamp)
        if isinstance(result, Exception):
            if wanted:
                self._tell(f"Could not look for presentation states beside the film: {result}", error=True)
            return
        self._folders[folder] = (stamp, result)  # right for that folder even when the film has changed
        if wanted:  # the film on screen waits for this folder (not a stale answer for a film gone)
            self._waiting = None
            self._offer(waiting[2], result, late=True)

    def _offer(self, sop_uid: str, states: dict[Path, set[str]], late: bool = False) -> None:
        self.found = [p for p, uids in states.items() if sop_uid in uids]
        self._update_action()
        if self.found:
            text = (f"A presentation state for this film is beside it ({self.found[0].name}): "
                    "Annotate \N{RIGHTWARDS ARROW} Apply presentation state found beside the film")
            shown = self.window.status.currentMessage()
            if late and shown and not shown.startswith("A presentation state"):
                text = f"{shown} \N{EM DASH} {text[0].lower()}{text[1:]}"  # e.g. "Opened ..." stays on screen
            self._tell(text)

    def _update_action(self) -> None:
        action = self.window.actions_by_name.get("gsps_apply_found")
        if action is not None:
            action.setEnabled(bool(self.found))


def _calibration_of(scale) -> tuple[float, float] | None:
    """The reader's calibration as (row, column mm), the Presentation Pixel Spacing to export."""
    if scale is None or scale.row_mm is None or scale.col_mm is None:
        return None
    return float(scale.row_mm), float(scale.col_mm)


def _window_of(view):
    """The window on screen when it is a centre/width window (a header VOI LUT table is not carried)."""
    w = view.window
    if w is None or getattr(w.voi, "lut", None) is not None:
        return None
    return _gsps().PresentationWindow(float(w.center), float(w.width), w.name, w.function)


def install_presentation_state_actions(window, tools, menu) -> PresentationStateActions:
    actions = PresentationStateActions(window, tools)
    menu.addSeparator()
    menu.addAction(window._act("gsps_export", "E&xport presentation state (GSPS)\N{HORIZONTAL ELLIPSIS}",
                               actions.export, "Ctrl+Shift+E"))
    menu.addAction(window._act("gsps_import", "&Import presentation state\N{HORIZONTAL ELLIPSIS}",
                               actions.import_file, "Ctrl+Shift+I"))
    menu.addAction(window._act("gsps_apply_found", "Apply presentation state &found beside the film",
                               actions.apply_found, "Ctrl+Shift+G"))
    actions._update_action()
    window.presentation_states = actions
    return actions
