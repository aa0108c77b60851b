"""The main window: image view in the centre, study browser and tag browser docks, menus, status bar.

Docks on the right are left free for the AI panel and the report pane: other modules add them
with ``add_panel`` (their layout is then restored like the built-in docks) and report the model's
device with ``set_compute_device``. ``currentImageChanged`` announces every image put on screen.

The window is composed here (views, docks, loader, settings, panels); its menus and actions live in
``window_menus`` and the opening, loading and showing of films in ``window_films``.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow

from cxviewer.settings import Settings
from cxviewer.ui.drop import paths_from_mime
from cxviewer.ui.status_bar import ViewerStatusBar
from cxviewer.ui.studies.browser import StudyBrowser
from cxviewer.ui.studies.loader import Loader
from cxviewer.ui.studies.radiograph_cache import RadiographCache
from cxviewer.ui.studies.tag_browser import TagBrowser
from cxviewer.ui.viewer.image_view import ImageView
from cxviewer.ui.window_films import WindowFilms
from cxviewer.ui.window_menus import WindowMenus

QUIT_WAIT_MS = 150  # at quit, the longest wait for reads in flight (nobody will look at them)

log = logging.getLogger(__name__)

def _b64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _unb64(text: str) -> QByteArray | None:
    try:
        return QByteArray(base64.b64decode(text.encode("ascii"), validate=True)) if text else None
    except ValueError:
        return None


class MainWindow(WindowMenus, WindowFilms, QMainWindow):
    currentImageChanged = Signal(object)  # Radiograph on screen, or None
    activeViewChanged = Signal(object)  # the ImageView the keyboard's view actions act on
    activeImageChanged = Signal(object)  # the active viewport's Radiograph (or None), when it or the viewport changes

    def __init__(self, settings: Settings | None = None, read: Callable[[Path], Any] | None = None):
        """``read``: how the loader reads a file (default ``read_radiograph``; see ``Loader``)."""
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
        # the viewport the View and Window actions act on (the one last clicked, ui.viewer.layouts); the
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

        self.loader = Loader(self, read=read)
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
        self.study_browser.imageSelected.connect(self.show_image)
        self.study_browser.errorSelected.connect(self._show_error_entry)

        self.actions_by_name: dict[str, QAction] = {}
        self._build_menus()
        self._default_layout()
        self._apply_settings()

    # ---------------------------------------------------------- viewports
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
        self.activeImageChanged.emit(view.rad)

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
        if view is not self.active_view:
            return
        if view is not self.image_view:
            self._show_readouts()
            if rad is not None:
                self.tag_browser.set_dataset(getattr(rad, "header", None))
            self._fill_window_menu()
        self.activeImageChanged.emit(rad)

    # ---------------------------------------------------------- drag and drop
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
