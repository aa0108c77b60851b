"""Help > Shortcuts is read from the actions themselves (issue 19 item 4): every key of every module
(AI overlay G, lung outline O, report export and finalise, batch scan, PACS) is listed, header windows
only for the windows the file on screen has, and a key added later by any module appears by itself."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget
from dicom_builder import chest_cr
from ui_support import quadrant_image, real_dicom

from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings
from cxviewer.ui.shortcuts_dialog import ShortcutsDialog, shortcut_rows

SHOTS = os.environ.get("CXVIEWER_SCREENSHOTS")


@pytest.fixture
def window(qtbot):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    yield w
    w.loader.shutdown()


def _menu_actions(menu_bar) -> list[QAction]:
    """Every action reachable from the menu bar (submenus included)."""
    out = []

    def walk(actions):
        for a in actions:
            if a.menu() is not None:
                walk(a.menu().actions())
            elif not a.isSeparator():
                out.append(a)

    walk(menu_bar.actions())
    return out


def _rows(window) -> dict[str, str]:
    return {text: keys for keys, text in shortcut_rows(window.shortcut_actions())}


def test_every_installed_modules_keys_are_listed(qtbot):
    from cxviewer.ui.app import build_main_window

    window, inference = build_main_window(Settings.load())  # composed as the application does
    qtbot.addWidget(window)
    report_dock = window.findChild(QDockWidget, "reportDock")
    rows = _rows(window)
    assert rows["Show Grad-CAM overlay"] == "G" and rows["Show lung outline"] == "O"
    assert rows["Export report as PDF"] == "Ctrl+E" and rows["Finalise report"] == "Ctrl+Shift+F"
    assert rows["Batch scan"] == "Ctrl+Shift+B" and rows["Query/Retrieve"] == "Ctrl+Shift+Q"
    # generated, not kept by hand: every menu entry with a key is in the list
    with_keys = [a for a in _menu_actions(window.menuBar()) if a.shortcuts() and a.isVisible()]
    listed = set(map(id, window.shortcut_actions()))
    assert with_keys and all(id(a) in listed for a in with_keys), [a.text() for a in with_keys
                                                                   if id(a) not in listed]
    # one key, one action: no two entries share a key
    keys = [k.toString() for a in window.shortcut_actions() for k in a.shortcuts()]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    # the report entries are in the File menu, and follow the pane (disabled with no study open)
    file_texts = [a.text().replace("&", "") for a in window.file_menu.actions()]
    assert "Export report as PDF\N{HORIZONTAL ELLIPSIS}" in file_texts and "Finalise report\N{HORIZONTAL ELLIPSIS}" in file_texts
    assert not report_dock.export_pdf_action.isEnabled()
    # a module installed later (layouts, annotation tools...) is listed as soon as its action exists
    extra = QAction("Some later tool", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+K"))
    window.addAction(extra)
    assert _rows(window)["Some later tool"] == "Ctrl+Alt+K"
    dialog = ShortcutsDialog(window.shortcut_actions(), window)
    qtbot.addWidget(dialog)
    texts = [dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())]
    assert "Show Grad-CAM overlay" in texts and "Export report as PDF" in texts
    if SHOTS:
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.grab().save(os.path.join(SHOTS, "shortcuts.png"))
    inference.shutdown()  # no model was asked for: the worker thread stops at once
    window.loader.shutdown()


def _wait_loaded(qtbot, w):
    qtbot.waitUntil(lambda: not w.loader.busy() and not w._batches, timeout=120_000)
    QApplication.processEvents()


def test_header_windows_are_listed_only_for_windows_the_file_has(qtbot, window, tmp_path):
    header_rows = lambda: [t for t, k in _rows(window).items() if k.startswith("Ctrl+") and k[-1].isdigit()
                           and k[5:].isdigit() and k != "Ctrl+0"]
    assert header_rows() == []  # no file: no header window
    one = tmp_path / "one.dcm"
    shutil.copy(real_dicom("CR-MONO1-10-chest.dcm"), one)  # its header has one window
    three = chest_cr(tmp_path / "three.dcm", quadrant_image(),
                        windows=[(2000, 4000, "Soft"), (1000, 500, "Lung"), (3000, 1000, "Bone")])
    window.open_paths([one, three])
    _wait_loaded(qtbot, window)
    window.show_image(one)
    assert len(header_rows()) == 1 and _rows(window)[header_rows()[0]] == "Ctrl+1"
    window.show_image(three)
    assert len(header_rows()) == 3
    assert {_rows(window)[t] for t in header_rows()} == {"Ctrl+1", "Ctrl+2", "Ctrl+3"}
    assert any(t.startswith("Lung") for t in header_rows())  # named as the file names them
