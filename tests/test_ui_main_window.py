"""Main window: dropping a folder of real and broken files, the study tree, error marks,
previous/next in a series, the tag browser, shortcuts help, dropping pixels from memory."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from dicom_builder import chest_cr
from ui_support import quadrant_image, real_dicom

from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings
from cxviewer.ui.studies.model import COLUMNS, ERROR_ROLE, KIND_ROLE, PATH_ROLE


@pytest.fixture
def window(qtbot):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.loader.shutdown()


def _wait_loaded(qtbot, w, timeout=120_000):
    qtbot.waitUntil(lambda: not w.loader.busy() and not w._batches, timeout=timeout)
    QApplication.processEvents()


def _mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def _drop(w, *paths: Path) -> QDropEvent:
    mime = _mime(*paths)
    point = w.image_view.mapTo(w, w.image_view.rect().center())
    pos = QPointF(point)
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, drop)
    assert drop.isAccepted()
    return drop


@pytest.fixture
def mixed_folder(tmp_path):
    """Copies of real CRs in nested folders, one undecodable real file and two broken files."""
    folder = tmp_path / "incoming"
    (folder / "chest").mkdir(parents=True)
    (folder / "spine" / "deeper").mkdir(parents=True)
    shutil.copy(real_dicom("RG1_UNCR.dcm"), folder / "chest" / "RG1_UNCR.dcm")
    shutil.copy(real_dicom("RG1_J2KI.dcm"), folder / "chest" / "RG1_J2KI.dcm")
    shutil.copy(real_dicom("CR-MONO1-10-chest.dcm"), folder / "chest" / "old_chest.dcm")
    for i in (1, 2, 3):
        shutil.copy(real_dicom(f"CR_tiny_{i}.dcm"), folder / "spine" / "deeper" / f"CR_tiny_{i}.dcm")
    shutil.copy(real_dicom("RG2_JPLY.dcm"), folder / "RG2_JPLY.dcm")  # no decoder accepts it
    data = real_dicom("CR-MONO1-10-chest.dcm").read_bytes()
    (folder / "truncated.dcm").write_bytes(data[: len(data) // 3])
    (folder / "notes.dcm").write_text("this is a text file, not DICOM\n")
    (folder / "README.txt").write_text("not an image, not reported\n")
    return folder


def _children(tree, text_prefix):
    matches = [c for t, c in tree if t.startswith(text_prefix)]
    assert len(matches) == 1, (text_prefix, [t for t, _ in tree])
    return matches[0]


def test_drop_of_a_folder_fills_the_browser_with_hierarchy_and_error_marks(qtbot, window, mixed_folder):
    shown_when = []
    window.image_view.imageChanged.connect(
        lambda rad: shown_when.append(len(window.study_browser.model.entries)))
    _drop(window, mixed_folder)
    _wait_loaded(qtbot, window)
    model = window.study_browser.model
    tree = model.tree()
    top = [t for t, _ in tree]
    assert len(top) == 4, top  # three patients + the unreadable group, which comes last
    assert top[-1] == "Unreadable files (3)"

    rg1 = _children(tree, "CompressedSamples, RG1")
    assert "(9RG1)" in [t for t, _ in tree if t.startswith("CompressedSamples, RG1")][0]
    thorax = _children(rg1, "THORAX")
    series = _children(thorax, "Series 1")
    assert [t for t, _ in series] == ["Image 1", "Image 3"]  # sorted by instance number

    spine_patient = _children(tree, "Doe, Archibald")
    study = _children(spine_patient, "XR C Spine")
    assert [t for t, _ in study] == ["Series 1: Cervical LAT", "Series 2: Cervical OBLI 1",
                                     "Series 3: Cervical OBLI 2"]  # ordered by series number
    assert all([t for t, _ in s] == ["Image 1"] for _, s in study)

    anonymised = _children(tree, "Anonymized")
    assert len(anonymised) == 1

    errors = _children(tree, "Unreadable files")
    assert sorted(t for t, _ in errors) == ["RG2_JPLY.dcm", "notes.dcm", "truncated.dcm"]
    root_errors = model.item(model.rowCount() - 1)
    assert root_errors.data(KIND_ROLE) == "errors"
    assert not root_errors.icon().isNull()
    for r in range(root_errors.rowCount()):
        item = root_errors.child(r, 0)
        message = item.data(ERROR_ROLE)
        assert message and len(message) > 10, item.text()  # a sentence for the reader, not empty
        assert message in item.toolTip()
        assert not item.icon().isNull()  # the error mark
        assert root_errors.child(r, COLUMNS.index("Description")).text() == message  # description column shows it too
    assert "README.txt" not in str(tree)

    # readable images carry a thumbnail, and the study row its date and modality
    first_image = model.index_for_path(mixed_folder / "chest" / "RG1_UNCR.dcm")
    assert not model.itemFromIndex(first_image).icon().isNull()
    study_row = first_image.parent().parent()
    assert study_row.siblingAtColumn(COLUMNS.index("Date")).data() == "2004-08-26"
    assert study_row.siblingAtColumn(COLUMNS.index("Modality")).data() == "CR"

    # the first decoded image was put on screen before the rest of the folder had arrived
    assert shown_when and shown_when[0] < len(model.entries)
    assert window.image_view.rad is not None
    assert "3 files could not be read" in window.status.currentMessage()


def test_selecting_an_unreadable_file_shows_its_message(qtbot, window, mixed_folder):
    window.open_paths([mixed_folder / "notes.dcm"])
    _wait_loaded(qtbot, window)
    model = window.study_browser.model
    index = model.index_for_path(mixed_folder / "notes.dcm")
    window.study_browser.view.setCurrentIndex(index)
    assert window.image_view.rad is None
    assert window.image_view.message.isVisible()
    assert "notes.dcm" in window.image_view.message.text()
    error = index.data(ERROR_ROLE)
    assert error.removeprefix("notes.dcm: ") in window.image_view.message.text()
    assert window.image_view.message.text().count("notes.dcm") == 1  # the name once, in the title


def test_missing_path_on_the_command_line_is_reported_not_fatal(qtbot, window, tmp_path):
    window.open_paths([tmp_path / "does-not-exist.dcm"])
    _wait_loaded(qtbot, window)
    tree = window.study_browser.model.tree()
    assert tree == [("Unreadable files (1)", [("does-not-exist.dcm", [])])]


def test_previous_next_image_in_series_and_tag_browser(qtbot, window, tmp_path):
    series_uid, study_uid = "1.2.3.4.5.6.7", "1.2.3.4.5.6"
    paths = []
    for i in (3, 1, 2):
        img = quadrant_image() + i * 10
        paths.append(chest_cr(tmp_path / f"im{i}.dcm", img, instance=i, series_uid=series_uid,
                                 study_uid=study_uid))
    window.open_paths([tmp_path])
    _wait_loaded(qtbot, window)
    model = window.study_browser.model
    ordered = model.series_paths(tmp_path / "im1.dcm")
    assert [p.name for p in ordered] == ["im1.dcm", "im2.dcm", "im3.dcm"]
    window.show_image(ordered[0])
    assert window.current_path == ordered[0]
    assert "Im 1/3" in window.image_view.annotations.text("top_right")
    window.actions_by_name["next_image"].trigger()
    assert window.current_path == ordered[1]
    assert window.image_view.rad.instance_number == 2
    window.actions_by_name["next_image"].trigger()
    window.actions_by_name["next_image"].trigger()  # stays on the last one
    assert window.current_path == ordered[2]
    window.actions_by_name["prev_image"].trigger()
    assert window.current_path == ordered[1]
    # the tree follows the image on screen
    current = window.study_browser.view.currentIndex()
    assert Path(current.siblingAtColumn(0).data(PATH_ROLE)) == ordered[1]

    tags = window.tag_browser
    assert len(tags.visible_rows()) > 20
    tags.search.setText("pixel spacing")
    rows = tags.visible_rows()
    assert [r[0] for r in rows] == ["(0028,0030)"]
    assert rows[0][3] == "[0.5, 0.25]"
    tags.search.setText("SYN1")  # values are searched too
    assert [r[1] for r in tags.visible_rows()] == ["Patient ID"]


def test_pixels_dropped_from_the_cache_are_read_again(qtbot, window, tmp_path):
    a = chest_cr(tmp_path / "a.dcm", quadrant_image())
    b = chest_cr(tmp_path / "b.dcm", quadrant_image()[::-1].copy())
    window.cache.max_bytes = 1  # keep only the newest decoded image
    window.open_paths([a, b])
    _wait_loaded(qtbot, window)
    assert len(window.cache) == 1
    assert (a in window.cache) != (b in window.cache)
    gone, kept = (a, b) if a not in window.cache else (b, a)
    window.show_image(kept)
    assert window.current_path == kept
    window.show_image(gone)  # not in memory: read in the background, then shown
    assert window.current_path == kept  # until it has been read
    qtbot.waitUntil(lambda: window.current_path == gone, timeout=30_000)
    assert np.array_equal(window.image_view.rad.pixels,
                          quadrant_image() if gone == a else quadrant_image()[::-1])


def test_a_late_re_read_does_not_replace_the_film_shown_since(qtbot, window, tmp_path):
    """The reader asks for a film dropped from memory, then moves on to one still in memory before the first has
    been read again: the film on screen stays when that read lands."""
    a = chest_cr(tmp_path / "a.dcm", quadrant_image())
    b = chest_cr(tmp_path / "b.dcm", quadrant_image()[::-1].copy())
    window.cache.max_bytes = 1
    window.open_paths([a, b])
    _wait_loaded(qtbot, window)
    gone, kept = (a, b) if a not in window.cache else (b, a)
    with qtbot.waitSignal(window.loader.signals.reread, timeout=30_000):
        window.show_image(gone)  # read again in the background
        window.show_image(kept)  # from memory, at once
    QApplication.processEvents()
    assert window.current_path == kept
    assert np.array_equal(window.image_view.rad.pixels, quadrant_image() if kept == a else quadrant_image()[::-1])


def test_close_all_during_a_load_keeps_nothing_of_it(qtbot, tmp_path):
    """"Close all" while a folder is loading: the film being read when it was closed, and anything the load
    had sent already, neither reappear in the browser nor stay in memory."""
    import threading

    from cxviewer.imaging import read_radiograph

    for i in range(4):
        chest_cr(tmp_path / f"f{i}.dcm", quadrant_image())
    calls, reading, release = [], threading.Event(), threading.Event()

    def read(path):
        calls.append(path)
        if len(calls) > 1:  # the second film is being read when the user closes everything
            reading.set()
            release.wait(30)
        return read_radiograph(path)

    w = MainWindow(Settings.load(), read=read)
    qtbot.addWidget(w)
    w.open_paths([tmp_path])
    try:
        qtbot.waitUntil(lambda: w.current_path is not None and reading.is_set(), timeout=30_000)
        w.close_all()
    finally:
        release.set()
    qtbot.waitUntil(lambda: not w.loader.busy(), timeout=30_000)
    QApplication.processEvents()
    assert w.current_path is None and w.image_view.rad is None
    assert len(w.cache) == 0 and not w.study_browser.model.entries and w.study_browser.model.rowCount() == 0
    assert len(calls) == 2  # the rest of the folder was not read
    w.loader.shutdown()


def test_recent_files_and_folders_are_remembered(qtbot, window, tmp_path):
    f = chest_cr(tmp_path / "r.dcm", quadrant_image())
    window.open_paths([f])
    window.open_paths([tmp_path])
    _wait_loaded(qtbot, window)
    assert window.settings["recent_files"][0] == str(f.resolve())
    assert window.settings["recent_folders"][0] == str(tmp_path.resolve())
    window.recent_files_menu.aboutToShow.emit()
    assert str(f.resolve()) in [a.text() for a in window.recent_files_menu.actions()]


def test_shortcuts_help_lists_every_shortcut_action(window):
    from cxviewer.ui.shortcuts_dialog import shortcut_rows

    rows = dict((text, keys) for keys, text in shortcut_rows(window.shortcut_actions()))
    for text, key in (("Zoom to fit", "F"), ("Invert", "I"), ("Flip horizontal", "H"), ("Flip vertical", "V"),
                      ("Lung", "L"), ("Reset window", "0"),
                      ("Next image in series", "PgDown"), ("Quit", "Ctrl+Q"), ("Studies", "Ctrl+B"),
                      ("DICOM tags", "Ctrl+T")):
        assert rows[text] == key
    assert len(rows) == len(window.shortcut_actions())  # none without a readable key


def test_keyboard_shortcuts_drive_the_view(qtbot, window, tmp_path):
    window.open_paths([chest_cr(tmp_path / "k.dcm", quadrant_image())])
    _wait_loaded(qtbot, window)
    view = window.image_view
    view.graphics.setFocus()
    before = view.displayed_image().copy()
    qtbot.keyClick(view.graphics, Qt.Key.Key_I)
    assert np.array_equal(view.displayed_image(), 255 - before)
    qtbot.keyClick(view.graphics, Qt.Key.Key_R)
    assert "Rot 90" in view.orientation_description()
    qtbot.keyClick(view.graphics, Qt.Key.Key_L)
    assert view.window.name == "Lung"
    qtbot.keyClick(view.graphics, Qt.Key.Key_0)
    assert view.window.name != "Lung"


def test_compute_device_field_and_side_panel_for_other_modules(window):
    from PySide6.QtWidgets import QDockWidget, QLabel

    window.set_compute_device("GPU:0 test card")
    assert window.status.device_label.text() == "AI: GPU:0 test card"
    dock = QDockWidget("AI", window)
    dock.setObjectName("aiPanelDock")
    dock.setWidget(QLabel("panel"))
    window.add_panel(dock)
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert dock.toggleViewAction() in window.panels_menu.actions()
    window.menuBar().addMenu("&Tools")  # menus added by other modules...
    window.hide()
    window.show()
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles[-1] == "Help" and "Tools" in titles  # ... land before Help
