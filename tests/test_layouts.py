"""Layouts 1x1/1x2/2x2, a film dragged from the study browser into a viewport, linked window/level,
zoom and pan, and "Compare with prior" (same Patient ID and issuer, most recent earlier study) on
real CR films."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from dicom_builder import chest_cr
from ui_support import real_dicom, quadrant_image

from cxviewer.imaging.priors import StudyRef, find_prior, scan_folder
from cxviewer.ui.annotate.tools import install_annotation_tools
from cxviewer.ui.viewer.layouts import install_layouts, prior_badge
from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings


@pytest.fixture
def window(qtbot):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    install_layouts(w, install_annotation_tools(w))
    w.resize(1400, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.loader.shutdown()


def _wait_loaded(qtbot, w):
    qtbot.waitUntil(lambda: not w.loader.busy() and not w._batches and w.image_view.rad is not None,
                    timeout=120_000)
    QApplication.processEvents()


def _landed(signal) -> list:
    """What ``signal`` (emitted on a worker thread) brings, recorded on the GUI thread after the
    viewer's own slots (connected earlier) have run; each arrival must be on the GUI thread."""
    import threading

    landed = []

    def record(*args):
        assert threading.current_thread() is threading.main_thread()
        landed.append(args)

    signal.connect(record, Qt.ConnectionType.QueuedConnection)
    return landed


def _hip_folder(tmp_path, names=("RG2_JPLL.dcm", "RG2_RLE.dcm")) -> Path:
    folder = tmp_path / "hips"
    folder.mkdir()
    for n in names:
        shutil.copy(real_dicom(n), folder / n)
    return folder


# ------------------------------------------------------------------ prior matching (Qt-free)
def _ref(name, pid="P1", issuer="", study="S", date="20240101", time=""):
    return StudyRef(Path(name), pid, issuer, study, date, time)


def test_prior_is_the_latest_earlier_study_of_the_same_patient():
    current = _ref("now", study="S9", date="20240601", time="101500")
    candidates = [
        _ref("old", study="S1", date="20200101"),
        _ref("last_year", study="S2", date="20230601"),
        _ref("same_day_earlier", study="S3", date="20240601", time="083000"),
        _ref("same_day_later", study="S4", date="20240601", time="120000"),
        _ref("future", study="S5", date="20250101"),
        _ref("other_patient", pid="P2", study="S6", date="20240501"),
        _ref("other_issuer", issuer="HOSP_B", study="S7", date="20240530"),
        _ref("same_study", study="S9", date="20240101"),
        _ref("no_date", study="S8", date=""),
    ]
    assert find_prior(current, candidates).path.name == "same_day_earlier"
    assert find_prior(current, candidates[:2]).path.name == "last_year"
    with_issuer = _ref("now", issuer="HOSP_A", study="S9", date="20240601")
    assert find_prior(with_issuer, [_ref("b", issuer="HOSP_B", study="S1", date="20240101")]) is None
    assert find_prior(with_issuer, [_ref("a", issuer="HOSP_A", study="S1", date="20240101")]).path.name == "a"
    assert find_prior(_ref("x", pid=""), [_ref("y", pid="", study="T", date="20000101")]) is None
    assert find_prior(_ref("x", date=""), candidates) is None


def test_prior_among_real_films_in_a_folder(tmp_path):
    folder = _hip_folder(tmp_path, ("RG2_JPLL.dcm", "RG2_RLE.dcm", "RG1_UNCR.dcm", "CR_tiny_1.dcm"))
    refs = scan_folder(folder)
    current = next(r for r in refs if r.path.name == "RG2_JPLL.dcm")
    prior = find_prior(current, refs)
    assert prior.path.name == "RG2_RLE.dcm" and prior.study_date == "20031208"
    assert find_prior(prior, refs) is None  # nothing before 2003 for 10RG2
    assert prior_badge("20031208", "20040826") == "PRIOR 2003-12-08 (8 mo earlier)"


# ------------------------------------------------------------------ layouts
def test_layouts_from_the_view_menu_and_shortcuts(window):
    grid = window.viewports
    assert grid.layout_name == "1x1" and len(grid.visible_views()) == 1
    for name, count in (("1x2", 2), ("2x2", 4), ("1x1", 1)):
        action = window.actions_by_name[f"layout_{name}"]
        assert action.shortcut().toString() and action.text()
        action.trigger()
        QApplication.processEvents()
        views = grid.visible_views()
        assert len(views) == count and all(v.isVisible() for v in views)
        assert action.isChecked()
        assert all(not v.isVisible() for v in grid.views[count:])
    grid.set_layout("1x2")
    QApplication.processEvents()
    left, right = grid.visible_views()
    assert left is window.image_view
    assert left.geometry().right() < right.geometry().left()  # side by side
    assert window.annotation_tools.controller_for(right) is not None  # the tools work there too


def test_drag_a_film_from_the_browser_into_a_viewport(qtbot, window, tmp_path):
    folder = _hip_folder(tmp_path)
    window.open_paths([folder])
    _wait_loaded(qtbot, window)
    grid = window.viewports
    grid.set_layout("1x2")
    model = window.study_browser.model
    rle = folder / "RG2_RLE.dcm"
    study_index = model.index_for_path(rle).parent().parent()  # the image's series, then its study
    mime = model.mimeData([study_index])
    assert [u.toLocalFile() for u in mime.urls()] == [str(rle)]
    target = grid.visible_views()[1]
    enter = QDragEnterEvent(target.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)  # Qt delivers a drop only where the drag entered
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(target.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: target.rad is not None, timeout=60_000)
    assert target.rad.path == rle and target.rad.study_date == "20031208"
    assert window.image_view.rad.path != rle or window.image_view.rad is not target.rad


def test_the_latest_film_asked_for_a_viewport_wins_over_a_slower_earlier_read(qtbot, window, tmp_path):
    """Film X (not cached: read in the background) then film Y (cached: shown at once) asked for the
    same viewport: when X's read comes back, the viewport still shows Y."""
    folder = _hip_folder(tmp_path)
    window.open_paths([folder])
    _wait_loaded(qtbot, window)
    grid = window.viewports
    grid.set_layout("1x2")
    other = grid.visible_views()[1]
    x, y = folder / "RG2_RLE.dcm", folder / "RG2_JPLL.dcm"
    window.cache.discard(x)
    assert window.cache.get(y) is not None and window.cache.get(x) is None
    landed = _landed(window.loader.signals.reread)
    grid.show_in(other, x)  # queued
    grid.show_in(other, y)  # shown at once
    assert other.rad is not None and other.rad.path == y
    qtbot.waitUntil(lambda: any(Path(args[0]) == x and args[1] is not None for args in landed), timeout=60_000)
    assert other.rad.path == y and other.rad.study_date == "20040826"
    assert window.image_view.rad is not None
    # the same viewport asked for X again (now the latest request): X comes
    window.cache.discard(x)
    grid.show_in(other, x)
    qtbot.waitUntil(lambda: other.rad is not None and other.rad.path == x, timeout=60_000)
    assert other.rad.study_date == "20031208"


def test_linked_window_zoom_and_pan(qtbot, window, tmp_path):
    a = chest_cr(tmp_path / "a.dcm", quadrant_image(400, 600), windows=[(2000, 4000, "W")])
    b = chest_cr(tmp_path / "b.dcm", quadrant_image(200, 300), windows=[(1000, 2000, "W")])
    window.open_paths([a, b])
    _wait_loaded(qtbot, window)
    grid = window.viewports
    grid.set_layout("1x2")
    main, other = grid.visible_views()
    grid.show_in(main, a)
    grid.show_in(other, b)
    qtbot.waitUntil(lambda: other.rad is not None, timeout=30_000)
    QApplication.processEvents()
    main.set_window(1500, 900)
    assert (other.window.center, other.window.width) == (1000, 2000)  # not linked yet
    window.actions_by_name["link_views"].trigger()
    assert grid.linked
    assert (other.window.center, other.window.width) == (1500, 900)  # linking takes the main window's
    other.set_window(700, 300)
    assert (main.window.center, main.window.width) == (700, 300)  # both ways
    main.set_zoom(2.0)
    QApplication.processEvents()
    assert other.zoom() == pytest.approx(2.0, rel=0.02)
    # pan the main view to its top-left quarter: the other shows its own top-left quarter
    main.view_box.translateBy(x=-100, y=-80)
    QApplication.processEvents()
    c_main = main.overlay_parent().mapFromParent(main.view_box.viewRect().center())
    c_other = other.overlay_parent().mapFromParent(other.view_box.viewRect().center())
    assert c_other.x() / 300 == pytest.approx(c_main.x() / 600, abs=0.01)
    assert c_other.y() / 200 == pytest.approx(c_main.y() / 400, abs=0.01)
    window.actions_by_name["link_views"].trigger()
    main.set_window(100, 50)
    assert (other.window.center, other.window.width) == (700, 300)  # unlinked again


# ------------------------------------------------------------------ compare with prior
def test_compare_with_prior_on_real_films(qtbot, window, tmp_path):
    folder = _hip_folder(tmp_path)
    window.open_paths([folder / "RG2_JPLL.dcm"])  # only the current film; the prior is in its folder
    _wait_loaded(qtbot, window)
    grid = window.viewports
    with qtbot.waitSignal(grid.priorLookedUp, timeout=60_000) as answer:
        window.actions_by_name["compare_prior"].trigger()
        assert window.status.currentMessage() == "Looking for a prior\N{HORIZONTAL ELLIPSIS}"
    assert answer.args[0].path == folder / "RG2_RLE.dcm"
    assert grid.layout_name == "1x2"
    prior_view = grid.visible_views()[1]
    qtbot.waitUntil(lambda: prior_view.rad is not None, timeout=60_000)
    QApplication.processEvents()
    assert prior_view.rad.path == folder / "RG2_RLE.dcm"
    top_right = prior_view.annotations.text("top_right")
    assert top_right.startswith("PRIOR 2003-12-08 (8 mo earlier)")
    assert window.image_view.annotations.text("top_right").startswith("CURRENT 2004-08-26")
    assert window.study_browser.model.contains(folder / "RG2_RLE.dcm")  # listed once found
    # showing another film in the prior's viewport drops the PRIOR line
    grid.show_in(prior_view, folder / "RG2_JPLL.dcm")
    QApplication.processEvents()
    assert not prior_view.annotations.text("top_right").startswith("PRIOR")


def test_no_prior_is_said_plainly(qtbot, window):
    window.open_paths([real_dicom("RG3_JLSN.dcm")])
    _wait_loaded(qtbot, window)
    with qtbot.waitSignal(window.viewports.priorLookedUp, timeout=60_000) as answer:
        window.viewports.compare_with_prior()
    assert answer.args == [None]
    assert "No earlier study of this patient" in window.status.currentMessage()
    assert window.viewports.layout_name == "1x1"


def test_close_all_and_a_new_current_film_leave_no_stale_prior(qtbot, window, tmp_path):
    folder = _hip_folder(tmp_path)
    window.open_paths([folder / "RG2_JPLL.dcm"])
    _wait_loaded(qtbot, window)
    grid = window.viewports
    with qtbot.waitSignal(grid.priorLookedUp, timeout=60_000):
        grid.compare_with_prior()
    prior_view = grid.visible_views()[1]
    qtbot.waitUntil(lambda: prior_view.rad is not None, timeout=60_000)
    # another patient becomes the current film: the PRIOR label goes, it is nobody's prior now
    window.open_paths([real_dicom("RG3_JLSN.dcm")])
    qtbot.waitUntil(lambda: window.image_view.rad.path.name == "RG3_JLSN.dcm", timeout=60_000)
    QApplication.processEvents()
    assert not prior_view.annotations.text("top_right").startswith("PRIOR")
    assert not window.image_view.annotations.text("top_right").startswith("CURRENT")
    window.actions_by_name["close_all"].trigger()
    QApplication.processEvents()
    assert prior_view.rad is None and window.image_view.rad is None  # no film of a closed study stays


def test_the_prior_is_looked_for_off_the_gui_thread_and_a_stale_answer_is_dropped(qtbot, window, tmp_path,
                                                                                monkeypatch):
    import threading

    import cxviewer.ui.viewer.layouts as layouts

    threads = []

    def recording_scan_folder(folder, open_here):
        threads.append(threading.current_thread())
        return scan_folder(folder, open_here)

    monkeypatch.setattr(layouts, "scan_folder", recording_scan_folder)
    folder = _hip_folder(tmp_path)
    other_patient = tmp_path / "other"
    other_patient.mkdir()
    shutil.copy(real_dicom("RG3_JLSN.dcm"), other_patient / "RG3_JLSN.dcm")
    window.open_paths([folder / "RG2_JPLL.dcm", other_patient / "RG3_JLSN.dcm"])
    _wait_loaded(qtbot, window)
    grid = window.viewports
    window.show_image(folder / "RG2_JPLL.dcm")
    qtbot.waitUntil(lambda: window.image_view.rad.path.name == "RG2_JPLL.dcm", timeout=60_000)
    # P, then another patient's film before the answer: the answer is for a film no longer on screen
    landed = _landed(window.loader.signals.lookedUp)
    grid.compare_with_prior()
    assert window.status.currentMessage().startswith("Looking for a prior")
    window.show_image(other_patient / "RG3_JLSN.dcm")
    assert window.image_view.rad.path.name == "RG3_JLSN.dcm"  # cached: shown at once
    qtbot.waitUntil(lambda: any(token[:1] == ("prior",) for token, _result in landed), timeout=60_000)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert grid.layout_name == "1x1"  # no prior put beside another patient's film
    assert not window.status.currentMessage().startswith("Looking for a prior")
    # the folders were looked through once: P again finds the prior at once, on the GUI thread's cache
    window.show_image(folder / "RG2_JPLL.dcm")
    qtbot.waitUntil(lambda: window.image_view.rad.path.name == "RG2_JPLL.dcm", timeout=60_000)
    count = len(threads)
    with qtbot.waitSignal(grid.priorLookedUp, timeout=60_000) as answer:
        grid.compare_with_prior()
    assert answer.args[0].path == folder / "RG2_RLE.dcm" and len(threads) == count
    assert all(t is not threading.main_thread() for t in threads)
