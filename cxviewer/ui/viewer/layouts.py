"""Viewport layouts (1x1, 1x2, 2x2), films dragged from the study browser into a viewport, linked
window/level, zoom and pan, and "Compare with prior".

The main window's image view stays viewport 1 (top left): the study browser, the AI panel and the
report show their film there. Other viewports are ImageViews of their own, each with the annotation
tools attached; a film dragged from the browser (or from the file manager) onto one is shown there.
The viewport last clicked (or dropped on) is the active one, outlined in ACTIVE_BORDER: the View and
Window menus' keys (zoom, rotate, flips, presets, invert, reset, PgUp/PgDown in its series) act on
it and the status bar reads its window and zoom (``MainWindow.set_active_view``).
With linking on, a window/level drag, a zoom or a pan in one viewport is repeated in the others
(the same window in modality units; the same zoom and the same relative place in the image).
"Compare with prior" puts the most recent earlier study of the same patient (cxviewer.imaging.priors)
beside the current film, with "PRIOR" and its date in its top-right corner.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGridLayout, QWidget

from cxviewer.imaging.priors import StudyRef, find_prior, scan_folder
from cxviewer.ui.drop import paths_from_mime
from cxviewer.ui.studies.image_entry import ImageEntry
from cxviewer.ui.viewer.corner_text import format_date
from cxviewer.ui.viewer.image_view import ImageView

log = logging.getLogger(__name__)

LAYOUTS = {"1x1": (1, 1), "1x2": (1, 2), "2x2": (2, 2)}
LAYOUT_KEYS = {"1x1": "Alt+1", "1x2": "Alt+2", "2x2": "Alt+4"}
GRID_BACKGROUND = QColor("#303030")
ACTIVE_BORDER = QColor("#3d8fe0")  # a thin blue line: apart from the yellow annotations and white text
BORDER_PX = 2


def months_between(earlier: str, later: str) -> int | None:
    try:
        y0, m0, d0 = int(earlier[:4]), int(earlier[4:6]), int(earlier[6:8])
        y1, m1, d1 = int(later[:4]), int(later[4:6]), int(later[6:8])
    except (TypeError, ValueError):
        return None
    return (y1 - y0) * 12 + (m1 - m0) - (1 if d1 < d0 else 0)


def prior_badge(prior_date: str, current_date: str) -> str:
    text = f"PRIOR {format_date(prior_date)}"
    months = months_between(prior_date, current_date)
    if months is not None:
        text += (f" ({months // 12} y {months % 12} mo earlier)" if months >= 12
                 else f" ({months} mo earlier)" if months > 0 else " (earlier the same month)")
    return text


class _DropFilter(QObject):
    """Drops on a viewport: films already open are shown there, new ones opened as usual."""

    def __init__(self, grid: ViewportGrid, view: ImageView):
        super().__init__(view)
        self.grid, self.view = grid, view

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if paths_from_mime(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            paths = paths_from_mime(event.mimeData())
            if paths:
                event.acceptProposedAction()
                self.grid.activate(self.view)
                self.grid.dropped(self.view, [Path(p) for p in paths])
                return True
        return False


class _ActivateFilter(QObject):
    """A mouse press anywhere in a viewport makes it the active one (before the press does its work)."""

    def __init__(self, grid: ViewportGrid, view: ImageView):
        super().__init__(view)
        self.grid, self.view = grid, view

    def eventFilter(self, obj, event) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.FocusIn):
            self.grid.activate(self.view)
        return False


class ViewportGrid(QWidget):
    layoutChanged = Signal(str)
    priorLookedUp = Signal(object)  # after "Compare with prior": the StudyRef shown, or None

    def __init__(self, window, tools=None, parent: QWidget | None = None):
        super().__init__(parent or window)
        self.tools = tools  # AnnotationTools, attached to every new viewport
        self.setObjectName("viewportGrid")
        self.window = window
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2 * BORDER_PX)
        self.views: list[ImageView] = [window.image_view]
        self.layout_name = "1x1"
        self.linked = False
        self._syncing = False
        self._pending: dict[ImageView, Path] = {}  # one outstanding read per viewport: the latest asked
        self._badges: dict[ImageView, tuple[Path, str]] = {}
        self._folder_refs: dict[Path, tuple[float, frozenset, list[StudyRef]]] = {}
        self._wire(window.image_view)
        window.activeViewChanged.connect(lambda _v: self.update())
        window.loader.signals.reread.connect(self._on_reread)
        self._prior_token: tuple | None = None  # the latest prior look-up asked for
        window.loader.signals.lookedUp.connect(self._on_looked_up, Qt.ConnectionType.QueuedConnection)
        window.currentImageChanged.connect(self._on_closed_all)
        self.set_layout("1x1")

    # ------------------------------------------------------------ viewports
    def _wire(self, view: ImageView) -> None:
        view.setAcceptDrops(True)
        view.installEventFilter(_DropFilter(self, view))
        view.windowChanged.connect(lambda c, w, v=view: self._sync_window(v, c, w))
        view.view_box.sigRangeChanged.connect(lambda *_, v=view: self._sync_range(v))
        view.imageChanged.connect(lambda rad, v=view: self._badge(v, rad))
        view.graphics.viewport().installEventFilter(_ActivateFilter(self, view))

    def _new_view(self) -> ImageView:
        view = ImageView(self)
        view.setObjectName(f"imageView{len(self.views) + 1}")
        view.graphics.setAcceptDrops(False)
        view.graphics.viewport().setAcceptDrops(False)
        main = self.window.image_view
        view.set_annotations_visible(main.annotations_visible())
        view.show_message("Drag a study, series or image here from the study browser.")
        self.window.watch_view(view)
        self._wire(view)
        if self.tools is not None:
            self.tools.attach(view)
        self.views.append(view)
        return view

    def set_layout(self, name: str) -> None:
        rows, cols = LAYOUTS[name]
        while len(self.views) < rows * cols:
            self._new_view()
        for v in self.views:
            self.grid.removeWidget(v)
        for i, v in enumerate(self.views):
            if i < rows * cols:
                self.grid.addWidget(v, i // cols, i % cols)
                v.show()
            else:
                v.hide()
        self.layout_name = name
        # one viewport: no frame; several: a gap around each, the active one's drawn in ACTIVE_BORDER
        self.grid.setContentsMargins(*(4 * [0 if name == "1x1" else BORDER_PX]))
        if self.window.active_view not in self.visible_views():
            self.activate(self.window.image_view)
        self.update()
        if name == "1x1":  # one film on screen: nothing to tell apart
            self._badges.clear()
            main = self.window.image_view
            self._badge(main, main.rad)
        self.layoutChanged.emit(name)

    def _badge(self, view: ImageView, rad) -> None:
        """The CURRENT / PRIOR line stays while the film it was made for is on screen; another
        current film ends the comparison's labels everywhere."""
        path, text = self._badges.get(view, (None, ""))
        matches = rad is not None and path == Path(rad.path)
        if view is self.window.image_view and path is not None and not matches:
            self._badges.clear()
            for v in self.views:
                if v is not view and v.corner_extra:
                    v.corner_extra = {}
                    v._update_annotations()
        view.corner_extra = {"top_right": text} if matches else {}
        if rad is not None:
            view._update_annotations()

    def _on_closed_all(self, rad) -> None:
        """File > Close all: no film of the closed studies stays in any viewport."""
        if rad is None and self.window.current_path is None:
            self._pending.clear()
            self._badges.clear()
            for v in self.views[1:]:
                v.set_radiograph(None)
                v.show_message("Drag a study, series or image here from the study browser.")

    def activate(self, view: ImageView) -> None:
        if view in self.visible_views():
            self.window.set_active_view(view)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), GRID_BACKGROUND)
        active = self.window.active_view
        if self.layout_name != "1x1" and active in self.visible_views() and active.isVisible():
            b = BORDER_PX
            painter.fillRect(active.geometry().adjusted(-b, -b, b, b), ACTIVE_BORDER)
        painter.end()

    def visible_views(self) -> list[ImageView]:
        rows, cols = LAYOUTS[self.layout_name]
        return self.views[: rows * cols]

    # ------------------------------------------------------------ films
    def show_in(self, view: ImageView, path: Path) -> None:
        """Show the film ``path`` in ``view`` (read again in the background when not cached)."""
        path = Path(path)
        if view is self.window.image_view:
            self.window.show_image(path)
            return
        rad = self.window.cache.get(path)
        if rad is None:
            if view.rad is not None and Path(view.rad.path) != path:
                view.set_radiograph(None)  # never the previous film under the new film's label
            self._pending[view] = path  # replaces an earlier read for this viewport: its answer is dropped
            view.show_message(f"Reading {path.name}\N{HORIZONTAL ELLIPSIS}")
            self.window.loader.reread(path)
            return
        self._pending.pop(view, None)  # a film still being read for this viewport must not replace this one
        view.hide_message()
        view.set_radiograph(rad)
        view.set_position_text(self.window.series_position(path))  # "Im 2/3" as in viewport 1

    def _on_reread(self, path: Path, rad, error) -> None:
        waiting = [v for v, p in self._pending.items() if p == Path(path)]
        if not waiting:  # nobody asked, or the viewport was given another film since: a stale answer
            return
        for v in waiting:
            del self._pending[v]
        if rad is None:
            for view in waiting:
                view.show_message(f"Cannot read {Path(path).name}\n\n{error}")
            return
        self.window.cache.put(path, rad)
        model = self.window.study_browser.model
        if not model.contains(path):  # a prior found in an opened folder: list it with the others
            self.window.study_browser.add_entry(ImageEntry.from_radiograph(rad))
        for view in waiting:
            view.hide_message()
            view.set_radiograph(rad)
            view.set_position_text(self.window.series_position(Path(path)))

    def step(self, step: int) -> None:
        """PgUp / PgDown: the previous / next image of the active viewport's series, in that viewport."""
        view = self.window.active_view
        if view is self.window.image_view or view.rad is None:
            self.window.step_image(step)
            return
        path = Path(view.rad.path)
        series = self.window.study_browser.model.series_paths(path)
        i = series.index(path) + step if path in series else -1
        if 0 <= i < len(series):
            self.show_in(view, series[i])

    def dropped(self, view: ImageView, paths: list[Path]) -> None:
        model = self.window.study_browser.model
        known = [p for p in paths if model.contains(p) and model.entries[p].ok]
        if known:
            self.show_in(view, known[0])
        else:
            self.window.open_paths(paths)

    # ------------------------------------------------------------ linking
    def set_linked(self, on: bool) -> None:
        self.linked = bool(on)
        if self.linked:  # the others take the active viewport's window, zoom and place
            main = self.window.active_view
            if main.window is not None:
                self._sync_window(main, main.window.center, main.window.width)
            self._sync_range(main)

    def _others(self, source: ImageView) -> list[ImageView]:
        return [v for v in self.visible_views() if v is not source and v.rad is not None]

    def _sync_window(self, source: ImageView, center: float, width: float) -> None:
        if not self.linked or self._syncing:
            return
        self._syncing = True
        try:
            for v in self._others(source):
                if v.window is None or (v.window.center, v.window.width) != (center, width):
                    v.set_window(center, width, "Linked")
        finally:
            self._syncing = False

    def _sync_range(self, source: ImageView) -> None:
        if not self.linked or self._syncing or source.rad is None or not source.zoom():
            return
        self._syncing = True
        try:
            if source._fit_mode:  # fitted stays fitted: each viewport fits its own film
                for v in self._others(source):
                    if not v._fit_mode:
                        v.fit()
                return
            sw, sh = source.image_size()
            centre = source.overlay_parent().mapFromParent(source.view_box.viewRect().center())
            fx, fy = centre.x() / sw, centre.y() / sh
            zoom = source.zoom()
            for v in self._others(source):
                w, h = v.image_size()
                target = v.overlay_parent().mapToParent(QPointF(fx * w, fy * h))
                vw, vh = v.view_box.width() / zoom, v.view_box.height() / zoom
                v._fit_mode = False
                v.view_box.setRange(QRectF(target.x() - vw / 2, target.y() - vh / 2, vw, vh), padding=0.0)
        finally:
            self._syncing = False

    # ------------------------------------------------------------ prior
    def _candidates(self) -> tuple[list[StudyRef], list[tuple[Path, float, frozenset]]]:
        """The open films' studies and those of the films beside them already looked through; and the
        folders still to look through (new, or changed since), as (folder, mtime, films open there)."""
        model = self.window.study_browser.model
        refs = [StudyRef.of(e) for e in model.entries.values() if e.ok]
        known = {r.path for r in refs}
        to_scan = []
        for folder in sorted({p.parent for p in model.entries}):
            try:
                stamp = folder.stat().st_mtime
            except OSError:
                continue
            open_here = frozenset(p for p in known if p.parent == folder)
            cached = self._folder_refs.get(folder)
            if cached is None or cached[:2] != (stamp, open_here):  # films already open are not read again
                to_scan.append((folder, stamp, open_here))
            else:
                refs.extend(r for r in cached[2] if r.path not in known)
        return refs, to_scan

    def compare_with_prior(self) -> None:
        """Look for the current film's prior (the folders' headers are read off the GUI thread) and show
        it beside the film; ``priorLookedUp`` tells the answer."""
        rad = self.window.image_view.rad
        if rad is None:
            self.window.status.showMessage("Open a film first.", 8000)
            return
        refs, to_scan = self._candidates()
        if not to_scan:
            self._show_prior(rad, refs)
            return
        self._prior_token = token = ("prior", Path(rad.path), object())  # later P or another film: stale
        self.window.status.showMessage("Looking for a prior\N{HORIZONTAL ELLIPSIS}")
        self.window.loader.look_up(token, lambda: [(f, stamp, here, scan_folder(f, here))
                                                   for f, stamp, here in to_scan])

    def _on_looked_up(self, token, result) -> None:
        if not (isinstance(token, tuple) and token[:1] == ("prior",)):
            return  # another client's look-up
        if isinstance(result, list):
            for folder, stamp, here, refs in result:
                self._folder_refs[folder] = (stamp, here, refs)  # right for that folder, stale or not
        if token is not self._prior_token:
            return
        self._prior_token = None
        rad = self.window.image_view.rad
        if rad is None or Path(rad.path) != token[1]:  # the reader moved on: no prior for a film gone
            if self.window.status.currentMessage().startswith("Looking for a prior"):
                self.window.status.clearMessage()
            return
        if isinstance(result, Exception):
            self.window.status.showMessage(f"Could not look for a prior: {result}", 15000)
            self.priorLookedUp.emit(None)
            return
        refs, to_scan = self._candidates()
        scanned = {folder: found for folder, _s, _h, found in result}
        known = {r.path for r in refs}
        for folder, _stamp, _here in to_scan:  # changed again meanwhile: what was just read will do
            refs.extend(r for r in scanned.get(folder, ()) if r.path not in known)
        self._show_prior(rad, refs)

    def _show_prior(self, rad, refs: list[StudyRef]) -> None:
        prior = find_prior(StudyRef.of(rad), refs)
        if prior is None:
            self.window.status.showMessage(
                "No earlier study of this patient (same Patient ID and issuer, earlier study date) "
                "among the open films or in their folders.", 15000)
            self.priorLookedUp.emit(None)
            return
        if self.layout_name == "1x1":
            self.set_layout("1x2")
        current, other = self.window.image_view, self.views[1]
        self._badges[current] = (Path(rad.path), f"CURRENT {format_date(rad.study_date)}")
        self._badges[other] = (prior.path, prior_badge(prior.study_date, rad.study_date))
        self._badge(current, rad)
        self.show_in(other, prior.path)
        self.window.status.showMessage(f"Prior: {format_date(prior.study_date)} ({prior.path.name})", 15000)
        self.priorLookedUp.emit(prior)


def install_layouts(window, tools=None) -> ViewportGrid:
    """Put the image view in a viewport grid and add the layout actions to the View menu; the
    annotation ``tools`` are attached to every viewport."""
    central = window.takeCentralWidget()
    grid = ViewportGrid(window, tools)
    assert central is window.image_view
    window.setCentralWidget(grid)
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.menu() and
                     a.menu().title().replace("&", "") == "View")
    layout_menu = view_menu.addMenu("&Layout")
    texts = {"1x1": "&1 viewport (1x1)", "1x2": "&2 side by side (1x2)", "2x2": "&4 viewports (2x2)"}
    for name in LAYOUTS:
        action = window._act(f"layout_{name}", texts[name], lambda _=False, n=name: grid.set_layout(n),
                             LAYOUT_KEYS[name], True)
        layout_menu.addAction(action)
    grid.layoutChanged.connect(lambda name: [window.actions_by_name[f"layout_{n}"].setChecked(n == name)
                                             for n in LAYOUTS])
    window.actions_by_name["layout_1x1"].setChecked(True)
    for name, step in (("prev_image", -1), ("next_image", 1)):  # PgUp / PgDown in the active viewport
        action = window.actions_by_name.get(name)
        if action is not None:
            action.triggered.disconnect()
            action.triggered.connect(lambda _=False, s=step: grid.step(s))
    view_menu.addAction(window._act("link_views", "&Link window, zoom and pan across viewports",
                                    grid.set_linked, "Ctrl+L", True))
    view_menu.addAction(window._act("compare_prior", "Compare with &prior", grid.compare_with_prior, "P"))
    window.viewports = grid
    return grid
