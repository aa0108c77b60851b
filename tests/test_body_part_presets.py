"""Window presets by body part: the chest presets (Lung, Mediastinum, Bone, Auto) for chest films
and plain chest images; for other body parts the header's windows and Auto only (no "Lung" on a hip)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from ui_support import real_dicom

from cxviewer.imaging import read_radiograph
from cxviewer.ui.main_window import MainWindow
from cxviewer.ui.viewer.presets import AUTO, BUILTIN_PRESETS, presets_for
from cxviewer.settings import Settings


@pytest.mark.parametrize("name, chest", [("RG1_UNCR.dcm", True), ("RG2_JPLL.dcm", False),
                                         ("RG3_JLSN.dcm", False), ("CR_tiny_1.dcm", False)])
def test_presets_follow_the_body_part_of_real_films(name, chest):
    rad = read_radiograph(real_dicom(name))
    assert presets_for(rad) == (BUILTIN_PRESETS if chest else (AUTO,)), rad.body_part


def test_plain_chest_image_gets_the_chest_presets(shared_dir):
    rad = read_radiograph(shared_dir / "data" / "cxr" / "images" / "normal" / "nih_00001280_004.jpg")
    assert presets_for(rad) == BUILTIN_PRESETS


@pytest.fixture
def window(qtbot):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.loader.shutdown()


def _open(qtbot, w, path):
    w.open_paths([path])
    qtbot.waitUntil(lambda: w.image_view.rad is not None and w.image_view.rad.path == path, timeout=60_000)
    QApplication.processEvents()


def _menu_texts(w):
    w._fill_window_menu()
    return [a.text() for a in w.window_menu.actions() if a.text()]


def test_no_lung_window_on_a_hip_but_the_header_windows_and_auto(qtbot, window):
    _open(qtbot, window, real_dicom("RG2_JPLL.dcm"))
    texts = _menu_texts(window)
    assert not any(t.startswith(("Lung", "Mediastinum", "Bone")) for t in texts)
    assert "Auto" in texts and any("W 1024 L 511" in t for t in texts)  # the header's window
    lung = window.actions_by_name["preset_lung"]
    assert not lung.isEnabled()
    before = (window.image_view.window.center, window.image_view.window.width)
    lung.trigger()  # the L key on a hip does nothing
    assert (window.image_view.window.center, window.image_view.window.width) == before
    window.actions_by_name["preset_auto"].trigger()
    assert window.image_view.window.name == "Auto"


def test_chest_film_has_the_chest_presets(qtbot, window):
    _open(qtbot, window, real_dicom("RG1_UNCR.dcm"))
    texts = _menu_texts(window)
    assert all(p.name in texts for p in BUILTIN_PRESETS)
    window.actions_by_name["preset_lung"].trigger()
    assert window.image_view.window.name == "Lung"
