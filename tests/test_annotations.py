"""Annotations: each tool's value on a synthetic film of known geometry (CTR and ROI exact), drawing
by mouse, select/move/delete/undo, calibration, and saving per film across a restart of the window."""

from __future__ import annotations

import math
import os
import stat

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from dicom_builder import chest_cr
from ui_support import mouse_drag, real_dicom

from cxviewer.annotate.model import Annotation, AnnotationDocument, CalibrationEdit, Edit
from cxviewer.annotate.store import AnnotationStore, film_key
from cxviewer.annotate.values import angle_degrees, cardiothoracic, roi_stats
from cxviewer.imaging import read_radiograph
from cxviewer.imaging.spacing import scale_for_radiograph
from cxviewer.ui.annotate.controller import AnnotationController
from cxviewer.ui.annotate.tools import install_annotation_tools
from cxviewer.ui.viewer.image_view import ImageView
from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings

ROWS, COLS = 200, 300


def _film_pixels() -> np.ndarray:
    """Left half a ramp (value = 10 * column + row), right half a flat 1234 (the ROI target)."""
    rows, cols = np.mgrid[0:ROWS, 0:COLS]
    img = (10 * cols + rows).astype(np.uint16)
    img[:, 150:] = 1234
    return img


@pytest.fixture
def film(tmp_path):
    """300 x 200 px CR chest, Pixel Spacing 0.5 x 0.5 mm (detector plane)."""
    return read_radiograph(chest_cr(tmp_path / "film.dcm", _film_pixels(), spacing=(0.5, 0.5)))


@pytest.fixture
def view(qtbot):
    v = ImageView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    return v


@pytest.fixture
def controller(view, film, tmp_path):
    answers = {"text": "Pneumothorax", "length": 50.0}
    c = AnnotationController(view, AnnotationStore(tmp_path / "store"),
                             ask_text=lambda title, prompt, current="": answers["text"],
                             ask_length=lambda measured: answers["length"])
    c.answers = answers
    view.set_radiograph(film)
    QApplication.processEvents()
    return c


# ------------------------------------------------------------------ values (exact)
def test_ctr_is_exact_on_known_geometry(controller):
    ctr = controller.add(Annotation("ctr", ((100, 120), (160, 120), (40, 150), (240, 150))))
    heart, thorax, ratio = cardiothoracic(ctr, controller.scale())
    assert (heart, thorax) == (30.0, 100.0)  # 60 px and 200 px at 0.5 mm
    assert ratio == 0.3
    assert controller.graphics[ctr.uid].text() == "CTR 0.30 (heart 30.0 / thorax 100.0 mm at detector)"


def test_roi_statistics_are_exact(controller, film):
    flat = controller.add(Annotation("ellipse", ((180, 40), (260, 120))))  # inside the flat 1234 half
    s = roi_stats(film.pixels, flat, controller.scale())
    assert (s.mean, s.sd, s.minimum, s.maximum) == (1234.0, 0.0, 1234.0, 1234.0)
    assert s.area == pytest.approx(math.pi * 40 * 40 * 0.25)  # mm^2 at 0.5 mm
    ramp = Annotation("ellipse", ((20.0, 30.0), (61.0, 81.0)))
    r = roi_stats(film.pixels, ramp)
    # brute force over every pixel centre of the film
    cy, cx = np.mgrid[0:ROWS, 0:COLS] + 0.5
    inside = ((cx - 40.5) / 20.5) ** 2 + ((cy - 55.5) / 25.5) ** 2 <= 1
    values = film.pixels[inside].astype(float)
    assert r.count == int(inside.sum())
    assert (r.mean, r.sd, r.minimum, r.maximum) == pytest.approx(
        (values.mean(), values.std(), values.min(), values.max()), abs=1e-9)
    text = controller.graphics[flat.uid].text()
    assert "mean 1234 SD 0\n" in text and "min 1234 max 1234" in text and "at detector" in text


def test_distance_angle_arrow_text_values(controller):
    d = controller.add(Annotation("distance", ((10, 10), (70, 90))))
    assert controller.graphics[d.uid].text() == "50.0 mm at detector"  # 60 x 80 px -> 100 px
    ang = controller.add(Annotation("angle", ((100, 50), (50, 50), (50, 0))))
    assert angle_degrees(ang) == pytest.approx(90.0)
    assert controller.graphics[ang.uid].text() == "90.0\N{DEGREE SIGN}"
    arrow = controller.add(Annotation("arrow", ((200, 150), (150, 100)), "tip"))
    note = controller.add(Annotation("text", ((30, 180),), "R"))
    assert controller.graphics[arrow.uid].text() == "tip" and controller.graphics[note.uid].text() == "R"


# ------------------------------------------------------------------ by mouse
def _drag(view, a, b):
    # a press right after the last release would be a double click, not a drag
    QTest.qWait(QApplication.doubleClickInterval() + 50)
    mouse_drag(view.graphics.viewport(), view.image_to_widget(*a), view.image_to_widget(*b),
               Qt.MouseButton.LeftButton)
    QApplication.processEvents()


def test_each_tool_draws_by_mouse(controller, view):
    tol = 1.0 / view.zoom() + 1e-6  # a screen pixel, in image pixels
    controller.set_tool("distance")
    _drag(view, (20, 20), (220, 20))
    d = controller.doc.annotations[-1]
    assert d.kind == "distance" and controller.scale().length(*d.points) == pytest.approx(100.0, abs=2 * tol)
    controller.set_tool("angle")
    _drag(view, (150, 20), (100, 100))
    assert not controller.doc.annotations[-1].kind == "angle"  # first arm only
    _drag(view, (100, 100), (200, 100))
    ang = controller.doc.annotations[-1]
    assert ang.kind == "angle" and ang.points[1] == pytest.approx((100, 100), abs=tol)
    expected = math.degrees(math.atan2(80, 50))
    assert angle_degrees(ang) == pytest.approx(expected, abs=1.0)
    controller.set_tool("ctr")
    _drag(view, (110, 120), (170, 125))
    _drag(view, (40, 150), (240, 160))
    ctr = controller.doc.annotations[-1]
    assert ctr.kind == "ctr" and ctr.points[1][1] == ctr.points[0][1]  # diameters forced horizontal
    assert cardiothoracic(ctr)[2] == pytest.approx(0.3, abs=0.01)
    controller.set_tool("ellipse")
    _drag(view, (180, 40), (260, 120))
    roi = controller.doc.annotations[-1]
    assert roi.kind == "ellipse" and "mean 1234" in controller.graphics[roi.uid].text()
    controller.set_tool("arrow")
    _drag(view, (250, 180), (200, 150))
    assert controller.doc.annotations[-1].kind == "arrow" and controller.doc.annotations[-1].text == "Pneumothorax"
    controller.set_tool("text")
    controller.answers["text"] = "L"
    _drag(view, (20, 180), (24, 184))
    assert controller.doc.annotations[-1].kind == "text" and controller.doc.annotations[-1].text == "L"
    assert [a.kind for a in controller.doc.annotations] == ["distance", "angle", "ctr", "ellipse", "arrow", "text"]


def test_select_move_delete_undo_redo(controller, view):
    d = controller.add(Annotation("distance", ((50, 50), (150, 50))))
    controller.set_tool("select")
    _drag(view, (100, 50), (100, 90))  # grab the middle of the line, move it down 40 rows
    moved = controller.doc.find(d.uid)
    assert controller.selected == d.uid
    assert moved.points[0][1] == pytest.approx(90, abs=1.0 / view.zoom() + 1e-6)
    # a drag that starts on nothing pans the image and leaves the annotation where it is
    before_pan = view.view_box.viewRect()
    _drag(view, (100, 150), (160, 190))
    assert view.view_box.viewRect() != before_pan and controller.doc.find(d.uid) == moved
    controller.select(d.uid)
    assert controller.delete_selected() and controller.doc.annotations == []
    controller.undo_stack.undo()
    assert controller.doc.find(d.uid).points == moved.points
    controller.undo_stack.undo()
    assert controller.doc.find(d.uid).points == d.points  # back where it was drawn
    controller.undo_stack.undo()
    assert controller.doc.annotations == []
    controller.undo_stack.redo()
    assert controller.doc.find(d.uid) == d
    assert set(controller.graphics) == {d.uid}


def test_edit_the_words_of_a_text_and_an_arrow(controller):
    note = controller.add(Annotation("text", ((30, 30),), "R"))
    controller.select(note.uid)
    controller.answers["text"] = "  Right  "
    assert controller.edit_selected_text()
    assert controller.doc.find(note.uid).text == "Right" and controller.graphics[note.uid].text() == "Right"
    controller.undo_stack.undo()
    assert controller.doc.find(note.uid).text == "R"
    line = controller.add(Annotation("distance", ((0, 0), (5, 5))))
    controller.select(line.uid)
    assert not controller.edit_selected_text()  # a distance has no words of its own


def test_model_edits_invert_without_qt():
    doc = AnnotationDocument("k")
    a = Annotation("distance", ((0, 0), (1, 1)))
    b = Annotation("text", ((5, 5),), "x")
    undo_a = doc.apply(Edit(None, a))
    undo_b = doc.apply(Edit(None, b))
    undo_move = doc.apply(Edit(a, a.moved(3, 4)))
    assert doc.annotations[0].points == ((3, 4), (4, 5))
    doc.apply(undo_move)
    doc.apply(undo_a)
    assert doc.annotations == [b]
    doc.apply(undo_a.inverse())
    assert doc.annotations == [a, b]  # back in its place
    doc.apply(undo_b)
    assert doc.pick((0.5, 0.6), 1.0) == a and doc.pick((50, 50), 1.0) is None
    with pytest.raises(ValueError):
        Annotation("angle", ((0, 0), (1, 1)))
    with pytest.raises(ValueError):
        Annotation("distance", ((0, 0), (float("nan"), 1)))


# ------------------------------------------------------------------ calibration
def test_calibration_changes_every_length_on_that_film_and_is_undoable(controller, view, film):
    d = controller.add(Annotation("distance", ((0, 0), (100, 0))))
    assert controller.graphics[d.uid].text() == "50.0 mm at detector"
    controller.set_tool("calibrate")
    controller.answers["length"] = 40.0
    _drag(view, (20, 60), (220, 60))  # 200 px ~ 100 mm at the detector, really 40 mm
    assert controller.doc.calibration is not None and view.calibration == controller.doc.calibration
    text = controller.graphics[d.uid].text()
    assert text.endswith("mm calibrated") and float(text.split()[0]) == pytest.approx(20.0, abs=0.2)
    assert view.measurement_scale().kind == "user"
    controller.undo_stack.undo()
    assert view.calibration is None and controller.graphics[d.uid].text() == "50.0 mm at detector"
    controller.undo_stack.redo()
    other = read_radiograph(chest_cr(film.path.with_name("other.dcm"), _film_pixels(), spacing=(0.5, 0.5)))
    view.set_radiograph(other)
    assert view.measurement_scale().kind == "detector"  # a calibration belongs to its film
    view.set_radiograph(film)
    assert view.measurement_scale().kind == "user"  # and comes back with it


def test_store_is_owner_only_and_survives_damage(tmp_path, film):
    store = AnnotationStore(tmp_path / "s")
    doc = AnnotationDocument(film_key(film), [Annotation("text", ((1, 2),), "hello")])
    doc.apply(CalibrationEdit(None, scale_for_radiograph(film)))
    path = store.save(doc)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    again = store.load(film.sop_uid)
    assert again.annotations == doc.annotations and again.calibration == doc.calibration
    path.write_text("{not json")
    assert store.load(film.sop_uid).annotations == []  # set aside, not a crash
    assert [p for p in path.parent.iterdir() if p.name.startswith(path.stem + ".damaged-")]  # kept aside


# ------------------------------------------------------------------ restart
def _window(qtbot):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    install_annotation_tools(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_annotations_come_back_after_a_restart_of_the_window(qtbot, tmp_path):
    path = real_dicom("RG2_JPLL.dcm")  # a real CR hip film, Pixel Spacing 0.2 mm
    w = _window(qtbot)
    w.open_paths([path])
    qtbot.waitUntil(lambda: w.image_view.rad is not None, timeout=60_000)
    c = w.annotation_tools.main
    d = c.add(Annotation("distance", ((100, 100), (1013, 100))))
    assert c.graphics[d.uid].text() == "182.6 mm at detector"
    c.add(Annotation("ellipse", ((500, 500), (700, 650))))
    saved = c.store.path_for(film_key(w.image_view.rad))
    assert saved.is_file() and stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    w.close()
    w.loader.shutdown()

    w2 = _window(qtbot)
    w2.open_paths([path])
    qtbot.waitUntil(lambda: w2.image_view.rad is not None, timeout=60_000)
    c2 = w2.annotation_tools.main
    assert [a.kind for a in c2.doc.annotations] == ["distance", "ellipse"]
    assert c2.doc.annotations[0] == d
    assert c2.graphics[d.uid].text() == "182.6 mm at detector"
    # the keyboard: Delete removes the selected one, Ctrl+Z brings it back
    c2.select(d.uid)
    w2.actions_by_name["annotate_delete"].trigger()
    assert [a.kind for a in c2.doc.annotations] == ["ellipse"]
    w2.actions_by_name["undo"].trigger()
    assert len(c2.doc.annotations) == 2
    w2.close()
    w2.loader.shutdown()


def test_tool_actions_are_exclusive_and_named_for_the_shortcuts_help(qtbot):
    w = _window(qtbot)
    tools = w.annotation_tools
    distance, angle = w.actions_by_name["annotate_distance"], w.actions_by_name["annotate_angle"]
    distance.trigger()
    assert tools.tool == "distance" and w.image_view.measure_mode and w.image_view.drag_tool is not None
    angle.trigger()
    assert tools.tool == "angle" and angle.isChecked() and not distance.isChecked()
    angle.trigger()  # off again: left drag pans
    assert tools.tool == "" and not w.image_view.measure_mode and w.image_view.drag_tool is None
    named = {a.objectName(): (a.text(), a.shortcut().toString()) for a in w.shortcut_actions()}
    for name in ("annotate_select", "annotate_distance", "annotate_delete", "annotate_angle", "annotate_arrow",
                 "annotate_text", "annotate_ellipse", "annotate_ctr", "annotate_calibrate", "annotate_edit_text",
                 "undo", "redo", "gsps_export"):
        text, key = named[f"action_{name}"]
        assert text.replace("&", "").strip() and key, name
    w.close()
    w.loader.shutdown()


def test_distance_on_a_film_without_pixel_spacing_says_px(view, tmp_path):
    rad = read_radiograph(chest_cr(tmp_path / "nosp.dcm", _film_pixels(), spacing=None))
    assert rad.pixel_spacing is None
    c = AnnotationController(view, AnnotationStore(tmp_path / "store"))
    view.set_radiograph(rad)
    d = c.add(Annotation("distance", ((0, 0), (30, 40))))
    assert c.graphics[d.uid].text() == "50.0 px"
    assert "no pixel spacing" in c.scale().explanation


def test_d_is_the_one_distance_tool_in_the_menu_and_on_the_toolbar(qtbot):
    w = _window(qtbot)
    distance = w.actions_by_name["annotate_distance"]
    assert "measure" not in w.actions_by_name and "clear_measurements" not in w.actions_by_name
    assert distance in w.toolbar.actions()
    with_d = [a for a in w.actions() if any(k.toString() == "D" for k in a.shortcuts())]
    assert with_d == [distance]
    with_delete = [a for a in w.actions() if any(k.toString() == "Del" for k in a.shortcuts())]
    assert with_delete == [w.actions_by_name["annotate_delete"]]
    w.open_paths([real_dicom("RG2_JPLL.dcm")])  # a real CR hip film, Pixel Spacing 0.2 mm
    qtbot.waitUntil(lambda: w.image_view.rad is not None, timeout=60_000)
    QApplication.processEvents()
    distance.trigger()
    c, view = w.annotation_tools.main, w.image_view
    centre = view.window.center
    _drag(view, (100, 100), (600, 100))  # 500 columns at 0.2 mm
    d = c.doc.annotations[-1]
    tolerance = 0.2 * 2 / view.zoom()  # a screen pixel either end, in mm
    assert d.kind == "distance" and c.scale().length(*d.points) == pytest.approx(100.0, abs=tolerance)
    assert c.graphics[d.uid].text().endswith("mm at detector")
    assert view.window.center == centre  # measuring neither panned nor windowed
    w.close()
    w.loader.shutdown()


def test_damaged_annotation_files_are_each_kept_aside_and_a_fresh_document_starts(tmp_path):
    """Valid JSON of the wrong shape (a list, a number where a dict belongs) used to raise out of the store and leave
    the previous film's marks in place; and a second damage overwrote the first set-aside copy."""
    store = AnnotationStore(tmp_path / "s")
    path = store.path_for("film-1")
    for damage in ("[1, 2]", '{"annotations": 5, "calibration": 5}'):
        path.write_text(damage, encoding="utf-8")
        doc = store.load("film-1")
        assert doc.key == "film-1" and doc.is_empty() and not path.exists()
    kept = sorted(p.read_text(encoding="utf-8") for p in path.parent.iterdir() if ".damaged-" in p.name)
    assert kept == sorted(["[1, 2]", '{"annotations": 5, "calibration": 5}'])
