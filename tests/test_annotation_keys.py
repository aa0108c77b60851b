"""Keys and clicks of the annotation tools in the window: Esc drops a half-drawn angle or CTR and
leaves the tool; a double click on a text's (or an arrow's) words edits them, as F2 does. A synthetic
CR film with known spacing, real mouse and key events through Qt."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from dicom_builder import chest_cr
from ui_support import mouse_drag, send_mouse

from cxviewer.annotate.model import Annotation
from cxviewer.ui.annotate.tools import install_annotation_tools
from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    install_annotation_tools(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    film = np.full((200, 300), 800, np.uint16)
    film[60:140, 100:200] = 2400
    w.open_paths([chest_cr(tmp_path / "film.dcm", film, spacing=(0.5, 0.5))])
    qtbot.waitUntil(lambda: w.image_view.rad is not None and not w.loader.busy(), timeout=60_000)
    QApplication.processEvents()
    w.image_view.graphics.setFocus()
    yield w
    w.loader.shutdown()


def _drag(view, a, b):
    QTest.qWait(QApplication.doubleClickInterval() + 50)  # not a double click
    mouse_drag(view.graphics.viewport(), view.image_to_widget(*a), view.image_to_widget(*b),
               Qt.MouseButton.LeftButton)
    QApplication.processEvents()


def _key(qtbot, w, key):
    qtbot.keyClick(w.image_view.graphics, key)
    QApplication.processEvents()


@pytest.mark.parametrize("tool_key, tool", [(Qt.Key.Key_N, "angle"), (Qt.Key.Key_C, "ctr")])
def test_esc_drops_a_half_drawn_annotation_and_leaves_the_tool(qtbot, window, tool_key, tool):
    view, tools = window.image_view, window.annotation_tools
    c = tools.main
    _key(qtbot, window, tool_key)
    assert tools.tool == tool and view.measure_mode
    _drag(view, (60, 40), (150, 100))  # the first line of two
    assert c._pending and c._preview is not None and not c.doc.annotations
    _key(qtbot, window, Qt.Key.Key_Escape)
    assert tools.tool == "" and not view.measure_mode and view.drag_tool is None
    assert not c._pending and c._preview is None
    assert not tools.tool_actions[tool].isChecked()
    assert "cancelled" in window.status.currentMessage()
    # the next left drag pans the image: nothing is drawn, the half-drawn line did not come back
    centre = view.view_box.viewRect().center()
    _drag(view, (150, 100), (60, 40))
    assert not c.doc.annotations and c._preview is None
    assert view.view_box.viewRect().center() != centre
    # the tool starts afresh next time: one drag is again only the first line
    _key(qtbot, window, tool_key)
    _drag(view, (150, 100), (240, 160))  # (the image moved left with the pan)
    assert not c.doc.annotations and c._pending


def test_esc_with_nothing_half_drawn_just_leaves_the_tool(qtbot, window):
    tools = window.annotation_tools
    _key(qtbot, window, Qt.Key.Key_D)
    assert tools.tool == "distance"
    _drag(window.image_view, (20, 20), (220, 20))
    assert len(tools.main.doc.annotations) == 1
    _key(qtbot, window, Qt.Key.Key_Escape)
    assert tools.tool == "" and len(tools.main.doc.annotations) == 1  # what was finished stays


def _double_click(view, scene_point):
    """Press, release, double-click, release: what a mouse sends (QTest.mouseDClick sends no last release)."""
    QTest.qWait(QApplication.doubleClickInterval() + 50)
    pos = QPointF(view.graphics.mapFromScene(scene_point))
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, buttons in ((QEvent.Type.MouseButtonPress, left), (QEvent.Type.MouseButtonRelease, none),
                          (QEvent.Type.MouseButtonDblClick, left), (QEvent.Type.MouseButtonRelease, none)):
        send_mouse(view.graphics.viewport(), kind, pos, left, buttons)
    QApplication.processEvents()


@pytest.mark.parametrize("tool", ["", "select", "distance"])
def test_double_click_on_a_text_edits_its_words(qtbot, window, tool):
    view, tools = window.image_view, window.annotation_tools
    c = tools.main
    asked = []
    c.ask_text = lambda title, prompt, current="": asked.append(current) or "Left apex"
    note = c.add(Annotation("text", ((40, 150),), "R apex"))
    tools.set_tool(tool)
    words = c.graphics[note.uid].label.sceneBoundingRect().center()  # on the words, not the anchor
    _double_click(view, words)
    assert asked == ["R apex"]
    assert c.doc.find(note.uid).text == "Left apex" and c.graphics[note.uid].text() == "Left apex"
    assert [a.kind for a in c.doc.annotations] == ["text"]  # nothing drawn by the clicks
    window.actions_by_name["undo"].trigger()
    assert c.doc.find(note.uid).text == "R apex"
    # a double click on the bare film edits nothing
    _double_click(view, view.overlay_parent().mapToScene(QPointF(250, 30)))
    assert asked == ["R apex"]
    # F2 still edits the selected text
    c.select(note.uid)
    window.actions_by_name["annotate_edit_text"].trigger()
    assert asked == ["R apex", "R apex"] and c.doc.find(note.uid).text == "Left apex"
    assert window.actions_by_name["annotate_edit_text"].shortcut().toString() == "F2"


def test_double_click_on_an_arrow_label_edits_it(qtbot, window):
    view, c = window.image_view, window.annotation_tools.main
    c.ask_text = lambda title, prompt, current="": "effusion"
    arrow = c.add(Annotation("arrow", ((200, 170), (160, 120)), "PTX"))
    _double_click(view, c.graphics[arrow.uid].label.sceneBoundingRect().center())
    assert c.doc.find(arrow.uid).text == "effusion"
