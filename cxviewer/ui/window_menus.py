"""The main window's menus, toolbar and keyed actions, and the small tools they start (window
presets, corner annotations, distance tool, full screen, Help). ``WindowMenus`` is a part of
``MainWindow`` (the image view, settings and status bar are the window's).

Every action is kept in ``actions_by_name`` and added to the window, so its key works with the menu
bar hidden (full screen); Help > Shortcuts lists the keys from the actions themselves.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QToolBar

from cxviewer import __version__
from cxviewer.ui.shortcuts_dialog import ShortcutsDialog
from cxviewer.ui.viewer.presets import BUILTIN_PRESETS, presets_for

_BUILTIN_KEYS = {"Lung": "L", "Mediastinum": "M", "Bone": "B", "Auto": "A"}


class WindowMenus:
    """Menus, toolbar, actions and their tools, for ``MainWindow``."""

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
                     "flip_v", "preset_lung", "preset_mediastinum", "preset_bone", "preset_auto",
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
