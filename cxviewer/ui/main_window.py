"""The main window: image view in the centre, study browser and tag browser docks, menus, status bar.

Docks on the right are left free for the AI panel and the report pane: other modules add them
with ``add_panel`` (their layout is then restored like the built-in docks) and report the model's
device with ``set_compute_device``. ``currentImageChanged`` announces every image put on screen.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QInputDialog, QMainWindow,
                               QMenu, QMessageBox, QToolBar)

from cxviewer import __version__, paths
from cxviewer.ui.drop import paths_from_mime
from cxviewer.ui.image_entry import ImageEntry
from cxviewer.ui.image_view import ImageView
from cxviewer.ui.loader import Loader
from cxviewer.ui.presets import BUILTIN_PRESETS, presets_for
from cxviewer.ui.radiograph_cache import RadiographCache
from cxviewer.settings import Settings
from cxviewer.ui.shortcuts_dialog import ShortcutsDialog
from cxviewer.ui.status_bar import ViewerStatusBar
from cxviewer.ui.study_browser import StudyBrowser
from cxviewer.ui.tag_browser import TagBrowser

QUIT_WAIT_MS = 150  # at quit, the longest wait for reads in flight (nobody will look at them)

log = logging.getLogger(__name__)

_BUILTIN_KEYS = {"Lung": "L", "Mediastinum": "M", "Bone": "B", "Auto": "A"}


def _b64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _unb64(text: str) -> QByteArray | None:
    try:
        return QByteArray(base64.b64decode(text.encode("ascii"), validate=True)) if text else None
    except ValueError:
        return None


class MainWindow(QMainWindow):
    currentImageChanged = Signal(object)  # Radiograph on screen, or None
    activeViewChanged = Signal(object)  # the ImageView the keyboard's view actions act on

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("CXViewer")
        self.settings = settings if settings is not None else Settings.load()
        self.cache = RadiographCache(int(self.settings["cache_mb"]) * 2**20)
        self.current_path: Path | None = None
        self._pending_path: Path | None = None
        self._batches: dict[int, dict[str, Any]] = {}
        self._close_hooks: list[Callable[[], None]] = []  # added by the parts composed in ui/app.py

        self.image_view = ImageView(self)
        # the viewport the View and Window actions act on (the one last clicked, ui.layouts); the
        # status bar's window and zoom read it. image_view stays the current film's (AI, report, title).
        self.active_view: ImageView = self.image_view
        self.image_views: list[ImageView] = []
        self.setCentralWidget(self.image_view)
        # Drops anywhere in the window reach dropEvent below, not the graphics view.
        self.image_view.graphics.setAcceptDrops(False)
        self.image_view.graphics.viewport().setAcceptDrops(False)
        self.setAcceptDrops(True)

        self.study_browser = StudyBrowser(self)
        self.tag_browser = TagBrowser(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.study_browser)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.tag_browser)
        self.tabifyDockWidget(self.study_browser, self.tag_browser)
        self.study_browser.raise_()
        self.status = ViewerStatusBar(self)
        self.setStatusBar(self.status)

        self.loader = Loader(self)
        sig = self.loader.signals
        sig.batchStarted.connect(self._on_batch_started)
        sig.loaded.connect(self._on_loaded)
        sig.failed.connect(self._on_failed)
        sig.nonImage.connect(self._on_non_image)
        sig.progress.connect(lambda _b, done, total: self.status.set_progress(done, total))
        sig.batchFinished.connect(self._on_batch_finished)
        sig.reread.connect(self._on_reread)

        v = self.image_view
        self.watch_view(v)
        v.measurementFinished.connect(lambda m: self.status.showMessage(f"Distance: {m.text()}", 10000))
        self.study_browser.imageSelected.connect(self.show_image)
        self.study_browser.errorSelected.connect(self._show_error_entry)

        self.actions_by_name: dict[str, QAction] = {}
        self._build_menus()
        self._default_layout()
        self._apply_settings()

    # ------------------------------------------------------------ viewports
    def watch_view(self, view: ImageView) -> None:
        """Readouts from ``view``: the cursor wherever it is, window and zoom while it is the active one."""
        self.image_views.append(view)
        view.windowChanged.connect(lambda c, w, v=view: self.status.set_window(c, w) if v is self.active_view
                                   else None)
        view.zoomChanged.connect(lambda _z, v=view: self._show_zoom() if v is self.active_view else None)
        view.cursorMoved.connect(self.status.set_cursor)
        view.imageChanged.connect(lambda rad, v=view: self._active_image_changed(v, rad))

    def set_active_view(self, view: ImageView) -> None:
        """Make ``view`` the one the keyboard's view actions act on; the readouts follow it."""
        if view is self.active_view:
            return
        self.active_view = view
        self._show_readouts()
        if view.rad is not None:
            self.tag_browser.set_dataset(getattr(view.rad, "header", None))
        self._fill_window_menu()
        self.activeViewChanged.emit(view)

    def _show_zoom(self) -> None:
        v = self.active_view
        # the view box reports a range before any image is there: no "Zoom 78400%" over an empty view
        self.status.set_zoom(v.zoom() if v.rad is not None else 0.0)

    def _show_readouts(self) -> None:
        v = self.active_view
        if v.window is not None and v.rad is not None:
            self.status.set_window(v.window.center, v.window.width)
        else:
            self.status.window_label.setText("")
        self._show_zoom()

    def _active_image_changed(self, view: ImageView, rad: Any) -> None:
        if view is self.active_view and view is not self.image_view:
            self._show_readouts()
            if rad is not None:
                self.tag_browser.set_dataset(getattr(rad, "header", None))
            self._fill_window_menu()

    # ------------------------------------------------------------ actions
    def _act(self, name: str, text: str, slot, shortcut: Any = None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"action_{name}")
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden (full screen)
        self.actions_by_name[name] = action
        return action

    def _build_menus(self) -> None:
        def v_(method: str, *args):  # a view action on the active viewport
            return lambda *_: getattr(self.active_view, method)(*args)

        a = self._act
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.file_menu = file_menu  # other modules add their entries (report export, finalise...)
        file_menu.addAction(a("open_files", "&Open files\N{HORIZONTAL ELLIPSIS}", self.open_files_dialog, "Ctrl+O"))
        file_menu.addAction(a("open_folder", "Open &folder\N{HORIZONTAL ELLIPSIS}", self.open_folder_dialog,
                              "Ctrl+Shift+O"))
        file_menu.addAction(a("open_sample", "Open &sample study", self.open_sample, "Ctrl+Shift+S"))
        self.recent_files_menu = file_menu.addMenu("Recent &files")
        self.recent_folders_menu = file_menu.addMenu("Recent f&olders")
        self.recent_files_menu.aboutToShow.connect(lambda: self._fill_recent(self.recent_files_menu, "files"))
        self.recent_folders_menu.aboutToShow.connect(
            lambda: self._fill_recent(self.recent_folders_menu, "folders"))
        file_menu.addSeparator()
        file_menu.addAction(a("close_all", "&Close all studies", self.close_all, "Ctrl+Shift+W"))
        file_menu.addAction(a("quit", "&Quit", self.close, "Ctrl+Q"))

        view_menu = mb.addMenu("&View")
        for name, text, slot, key in (
            ("fit", "Zoom to &fit", v_("fit"), "F"),
            ("zoom_1to1", "&1:1 (actual pixels)", v_("zoom_1to1"), "1"),
            ("zoom_in", "Zoom &in", v_("zoom_in"), ["+", "="]),
            ("zoom_out", "Zoom &out", v_("zoom_out"), "-"),
            ("rotate_cw", "&Rotate 90\N{DEGREE SIGN} clockwise", v_("rotate", True), "R"),
            ("rotate_ccw", "Rotate 90\N{DEGREE SIGN} &anticlockwise", v_("rotate", False), "Shift+R"),
            ("flip_h", "Flip &horizontal", v_("flip_horizontal"), "H"),
            ("flip_v", "Flip &vertical", v_("flip_vertical"), "V"),
            ("reset_view", "R&eset view", v_("reset_view"), "Ctrl+0"),
        ):
            view_menu.addAction(a(name, text, slot, key))
        view_menu.addSeparator()
        view_menu.addAction(a("annotations", "Corner &annotations", self._toggle_annotations, "T", True))
        view_menu.addAction(a("measure", "&Distance tool", self._toggle_measure, "D", True))
        view_menu.addAction(a("clear_measurements", "&Clear measurements", v_("clear_measurements"), "Delete"))
        view_menu.addSeparator()
        view_menu.addAction(a("prev_image", "&Previous image in series", lambda: self.step_image(-1),
                              "PgUp"))
        view_menu.addAction(a("next_image", "&Next image in series", lambda: self.step_image(1),
                              "PgDown"))
        view_menu.addSeparator()
        self.panels_menu = view_menu.addMenu("&Panels")
        for dock, key in ((self.study_browser, "Ctrl+B"), (self.tag_browser, "Ctrl+T")):
            toggle = dock.toggleViewAction()
            toggle.setShortcut(QKeySequence(key))
            self.panels_menu.addAction(toggle)
        view_menu.addAction(a("full_screen", "F&ull screen", self._toggle_full_screen, "F11", True))

        self.window_menu = mb.addMenu("&Window")
        self.window_menu.aboutToShow.connect(self._fill_window_menu)
        for preset in BUILTIN_PRESETS:
            a(f"preset_{preset.name.lower()}", f"{preset.name}",
              lambda _=False, p=preset: self._apply_builtin(p), _BUILTIN_KEYS[preset.name])
        a("reset_window", "&Reset window", v_("reset_window"), "0")
        a("invert", "&Invert", v_("toggle_invert"), "I")
        a("save_preset", "&Save window as preset\N{HORIZONTAL ELLIPSIS}", self.save_window_preset)
        self._header_preset_actions = [
            a(f"header_preset_{i}", f"Header window {i}", lambda _=False, i=i: self._apply_header(i - 1),
              f"Ctrl+{i}") for i in range(1, 10)]
        self._fill_window_menu()

        help_menu = mb.addMenu("&Help")
        self._help_menu_action = help_menu.menuAction()
        help_menu.addAction(a("shortcuts", "&Shortcuts\N{HORIZONTAL ELLIPSIS}", self.show_shortcuts, "F1"))
        help_menu.addAction(a("about", "&About CXViewer", self._about))

        tb = QToolBar("Tools", self)
        tb.setObjectName("mainToolbar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for name in ("open_files", "open_folder", "fit", "zoom_1to1", "invert", "rotate_cw", "flip_h",
                     "flip_v", "measure", "preset_lung", "preset_mediastinum", "preset_bone", "preset_auto",
                     "reset_window", "annotations"):
            tb.addAction(self.actions_by_name[name])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb
        self.panels_menu.addAction(tb.toggleViewAction())

    def _fill_window_menu(self) -> None:
        menu = self.window_menu
        menu.clear()
        presets = list(getattr(self.active_view.rad, "voi_presets", []) or [])
        for i, action in enumerate(self._header_preset_actions):
            if i < len(presets):
                p = presets[i]
                label = p.name or f"Header window {i + 1}"
                if getattr(p, "lut", None) is None and p.center is not None:
                    label += f"  (W {p.width:g} L {p.center:g})"
                action.setText(label)
                if getattr(p, "explanation", ""):
                    action.setToolTip(p.explanation)
                action.setEnabled(True)
                menu.addAction(action)
            else:
                action.setEnabled(False)
            # a window the file does not have is neither in the menu nor in Help > Shortcuts
            action.setVisible(i < len(presets))
        if not presets:
            none = menu.addAction("(no window in the file header)")
            none.setEnabled(False)
        menu.addSeparator()
        allowed = presets_for(self.active_view.rad)  # chest windows for chest films only
        for preset in BUILTIN_PRESETS:
            action = self.actions_by_name[f"preset_{preset.name.lower()}"]
            action.setToolTip(preset.explanation)
            action.setEnabled(preset in allowed)
            if preset in allowed:
                menu.addAction(action)
        menu.addAction(self.actions_by_name["reset_window"])
        user = self.settings["presets"]
        if user:
            menu.addSeparator()
            for p in user:
                act = menu.addAction(f"{p['name']}  (W {p['width']:g} L {p['center']:g})")
                act.triggered.connect(lambda _=False, p=p: self.active_view.set_window(p["center"], p["width"],
                                                                                     p["name"]))
        menu.addSeparator()
        menu.addAction(self.actions_by_name["save_preset"])
        menu.addAction(self.actions_by_name["invert"])

    def _fill_recent(self, menu: QMenu, kind: str) -> None:
        menu.clear()
        items = self.settings[f"recent_{kind}"]
        for p in items:
            menu.addAction(p).triggered.connect(lambda _=False, p=p: self.open_paths([p]))
        if not items:
            menu.addAction("(none)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear list").triggered.connect(lambda: self.settings.__setitem__(f"recent_{kind}", []))

    # ------------------------------------------------------------ opening
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
        self.study_browser.clear()
        self.cache.clear()
        self.current_path = None
        self.image_view.set_radiograph(None)
        self.tag_browser.set_dataset(None)
        self.status.clear_image_fields()
        self.currentImageChanged.emit(None)

    # drag and drop ---------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if paths_from_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        items = paths_from_mime(event.mimeData())
        if items:
            event.acceptProposedAction()
            self.open_paths(items)
        else:
            event.ignore()

    # loader results --------------------------------------------------------
    def _on_batch_started(self, batch: int, total: int) -> None:
        self.status.start_progress(total)

    def _on_loaded(self, batch: int, entry: ImageEntry, rad: Any) -> None:
        self.study_browser.add_entry(entry)
        self.cache.put(entry.path, rad)
        info = self._batches.get(batch)
        if info is not None:
            info["ok"] += 1
            if not info["shown"]:  # the first decoded image appears at once
                info["shown"] = True
                self.show_image(entry.path)

    def _on_failed(self, batch: int, entry: ImageEntry) -> None:
        self.study_browser.add_entry(entry)
        log.warning("cannot read %s: %s", entry.path, entry.error)
        if batch in self._batches:
            self._batches[batch]["failed"] += 1

    def _on_non_image(self, batch: int, entry: ImageEntry) -> None:
        """A report, presentation state or PDF among the films: counted in one quiet browser row."""
        self.study_browser.add_entry(entry)
        if batch in self._batches:
            self._batches[batch]["non_image"].append(entry.non_image)

    def _on_batch_finished(self, batch: int, cancelled: bool) -> None:
        info = self._batches.pop(batch, {"ok": 0, "failed": 0, "non_image": []})
        if not self._batches:
            self.status.finish_progress()
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

    # ---------------------------------------------------------- showing
    def show_image(self, path: Path) -> None:
        """Put ``path`` on screen: from the cache, or read again in the background."""
        path = Path(path)
        rad = self.cache.get(path)
        if rad is None:
            self._pending_path = path
            self.status.showMessage(f"Reading {path.name}\N{HORIZONTAL ELLIPSIS}")
            self.loader.reread(path)
            return
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

    # ---------------------------------------------------------- tools
    def _apply_builtin(self, preset) -> None:
        view = self.active_view
        if view.rad is not None and preset in presets_for(view.rad):
            view.apply_builtin_preset(preset)

    def _apply_header(self, index: int) -> None:
        view = self.active_view
        if view.rad is not None and index < len(view.rad.voi_presets):
            view.apply_header_preset(index)

    def save_window_preset(self) -> None:
        w = self.active_view.window
        if w is None:
            return
        name, ok = QInputDialog.getText(self, "Save window", "Name of this window:")
        if ok and name.strip():
            self.add_user_preset(name.strip(), w.center, w.width)

    def add_user_preset(self, name: str, center: float, width: float) -> None:
        presets = [p for p in self.settings["presets"] if p["name"] != name]
        presets.append({"name": name, "center": float(center), "width": float(width)})
        self.settings["presets"] = presets

    def _toggle_annotations(self, on: bool) -> None:
        for view in self.image_views:  # corner text on every viewport
            view.set_annotations_visible(on)
        self.settings["overlay"]["annotations"] = bool(on)

    def _toggle_measure(self, on: bool) -> None:
        self.active_view.set_measure_mode(on)
        self.status.showMessage("Distance tool: drag on the image" if on else "Distance tool off", 5000)

    def _toggle_full_screen(self, on: bool) -> None:
        self.showFullScreen() if on else self.showNormal()

    def shortcut_actions(self) -> list[QAction]:
        """Every visible action with a key, for Help > Shortcuts: read from the actions themselves (the
        window's, the panel toggles, and those other modules added: AI overlay, report, batch scan...),
        so a key added anywhere is listed without a list kept by hand."""
        seen: set[int] = set()
        out = []
        candidates = list(self.actions_by_name.values()) + self.panels_menu.actions() + list(self.actions())
        candidates += self.findChildren(QAction)
        for action in candidates:
            if id(action) in seen or not action.shortcuts() or not action.isVisible():
                continue
            seen.add(id(action))
            out.append(action)
        return out

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.shortcut_actions(), self).exec()

    def _about(self) -> None:
        QMessageBox.about(self, "About CXViewer",
                          f"CXViewer {__version__}\nChest radiograph reading station.\n"
                          "AI results are for research use, not a diagnosis.")

    # ---------------------------------------------------------- for other panels
    def add_panel(self, dock: QDockWidget, area=Qt.DockWidgetArea.RightDockWidgetArea) -> None:
        """Add a dock (AI panel, report...); it needs an objectName so its layout is remembered."""
        self.addDockWidget(area, dock)
        self.restoreDockWidget(dock)
        self.panels_menu.addAction(dock.toggleViewAction())

    def set_compute_device(self, text: str) -> None:
        self.status.set_device(text)

    def add_close_hook(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the window closes, before the settings are saved (e.g. stop the PACS listener)."""
        self._close_hooks.append(hook)

    # ---------------------------------------------------------- settings
    def _default_layout(self) -> None:
        """First run (no saved layout): most of the screen, a study browser wide enough to read."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        if screen is not None and screen.width() > 0:
            self.resize(int(screen.width() * 0.92), int(screen.height() * 0.92))
            self.move(screen.x() + int(screen.width() * 0.04), screen.y() + int(screen.height() * 0.04))
        else:
            self.resize(1400, 900)
        self.resizeDocks([self.study_browser], [400], Qt.Orientation.Horizontal)

    def _apply_settings(self) -> None:
        s = self.settings
        geometry = _unb64(s["geometry"])
        if geometry is not None and not self.restoreGeometry(geometry):
            log.warning("settings: saved window geometry is not usable, ignoring it")
        state = _unb64(s["window_state"])
        if state is not None and not self.restoreState(state):
            log.warning("settings: saved dock layout is not usable, ignoring it")
        overlay = s["overlay"]
        on = bool(overlay.get("annotations", True))
        self.actions_by_name["annotations"].setChecked(on)
        self.image_view.set_annotations_visible(on)
        self.image_view.measure_color = str(overlay.get("measure_color", "#ffd400"))

    def store_settings(self) -> None:
        self.settings["geometry"] = _b64(self.saveGeometry())
        self.settings["window_state"] = _b64(self.saveState())
        self.settings.save()

    def showEvent(self, event) -> None:
        # Panels installed after the window was built (AI, batch scan...) append their menus; keep
        # Help last, where readers look for it.
        mb = self.menuBar()
        if mb.actions() and mb.actions()[-1] is not self._help_menu_action:
            mb.removeAction(self._help_menu_action)
            mb.addAction(self._help_menu_action)
        super().showEvent(event)

    def closeEvent(self, event) -> None:
        for hook in self._close_hooks:
            hook()
        self.loader.shutdown(QUIT_WAIT_MS)  # reads nobody will look at are cancelled, not waited for
        self.store_settings()
        super().closeEvent(event)

