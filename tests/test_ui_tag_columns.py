"""DICOM tag browser (issue 19 item 6): Tag, Name and VR columns as wide as their contents (no
"(0028,003..."), and every value readable in full: on hover and in the detail pane."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from ui_support import real_dicom

from cxviewer.imaging import read_radiograph
from cxviewer.ui.studies.tag_browser import FULL_TEXT_ROLE, MAX_VALUE_CHARS, TagBrowser

SHOTS = os.environ.get("CXVIEWER_SCREENSHOTS")


@pytest.fixture
def browser(qtbot):
    b = TagBrowser()
    qtbot.addWidget(b)
    b.resize(420, 600)  # about the width of the left dock
    b.show()
    qtbot.waitExposed(b)
    return b


def _rows(browser):
    p = browser.proxy
    return [(p.index(r, 0), p.index(r, 3)) for r in range(p.rowCount())]


def test_columns_fit_their_contents_and_values_are_readable_in_full(qtbot, browser):
    header = read_radiograph(real_dicom("RG2_RLE.dcm")).header
    header.ImageComments = "Long comment " * 40  # 520 characters: longer than the cell shows
    browser.set_dataset(header)
    QApplication.processEvents()
    view, fm = browser.view, browser.view.fontMetrics()

    def widest(col):
        return max(fm.horizontalAdvance(browser.proxy.index(r, col).data() or "")
                   for r in range(browser.proxy.rowCount()))

    # at the dock's width Tag and VR fit their contents; nothing needs a horizontal scroll
    assert view.header().sectionSize(0) >= widest(0) + view.indentation()
    assert view.header().sectionSize(0) >= fm.horizontalAdvance("(0028,0030)") + view.indentation()
    assert view.header().sectionSize(2) >= widest(2)
    assert view.horizontalScrollBar().maximum() == 0
    assert view.header().sectionSize(3) >= 100  # room left to read values
    names = [browser.proxy.index(r, 1) for r in range(browser.proxy.rowCount())]
    assert all(n.data(Qt.ItemDataRole.ToolTipRole) == n.data() for n in names)  # a shortened name on hover
    browser.resize(760, 600)  # a wider dock: names in full too
    QApplication.processEvents()
    assert view.header().sectionSize(1) >= widest(1)
    browser.resize(420, 600)
    QApplication.processEvents()

    comment = next(v for t, v in _rows(browser) if t.data() == "(0020,4000)")
    assert len(comment.data()) == MAX_VALUE_CHARS + 1  # the cell is shortened...
    assert comment.data(FULL_TEXT_ROLE) == header.ImageComments  # ...the whole value is kept
    assert "Long comment " * 30 in comment.data(Qt.ItemDataRole.ToolTipRole)  # on hover
    browser.view.setCurrentIndex(comment)  # and in the detail pane when selected
    assert browser.detail.toPlainText().startswith("(0020,4000)  Image Comments  LT")
    assert header.ImageComments.strip() in browser.detail.toPlainText()
    assert browser.view.horizontalScrollBar().value() == 0  # selecting a long value keeps the tags in view
    if SHOTS:
        browser.grab().save(os.path.join(SHOTS, "tag_browser.png"))


def test_opening_a_sequence_widens_the_tag_column_for_its_indented_rows(qtbot, browser):
    header = read_radiograph(real_dicom("CR-ModalitySequenceLUT.dcm")).header
    browser.set_dataset(header)
    QApplication.processEvents()
    seq = next(t for t, v in _rows(browser) if (v.data() or "").endswith("item(s)"))
    before = browser.view.header().sectionSize(0)
    browser.view.expand(seq)
    item = browser.proxy.index(0, 0, seq)
    browser.view.expand(item)
    QApplication.processEvents()
    nested = browser.proxy.index(0, 0, item)
    assert nested.isValid()
    needed = browser.view.visualRect(nested).left() + browser.view.fontMetrics().horizontalAdvance(nested.data())
    assert browser.view.header().sectionSize(0) >= needed
    assert browser.view.header().sectionSize(0) > before
