"""GSPS round trip: the app writes (through highdicom) a Grayscale Softcopy Presentation State of a
real film's annotations into a chosen folder, never beside the films; it reads back with pydicom with
the same graphics and text at the same image coordinates, and a fresh session applies it."""

from __future__ import annotations

import os
import shutil
import stat

import pydicom
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from ui_support import real_dicom

from cxviewer.annotate import gsps
from cxviewer.annotate.model import Annotation
from cxviewer.ui.annotate.tools import install_annotation_tools
from cxviewer.ui.main_window import MainWindow
from cxviewer.settings import Settings

FILM = "RG2_JPLL.dcm"  # real CR hip film, 1760 x 2140, Pixel Spacing 0.2 mm

DRAWN = [
    Annotation("distance", ((100.0, 100.0), (1013.0, 100.0))),
    Annotation("angle", ((400.0, 300.0), (500.25, 400.5), (650.0, 300.0))),
    Annotation("arrow", ((900.0, 900.0), (800.0, 800.0)), "lesion"),
    Annotation("text", ((60.0, 2000.0),), "R hip"),
    Annotation("ellipse", ((500.0, 500.0), (700.0, 650.0))),
    Annotation("ctr", ((600.0, 1200.0), (1000.0, 1200.0), (300.0, 1400.0), (1400.0, 1400.0))),
]


def _window(qtbot, folder_answer=None, file_answer=None):
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    tools = install_annotation_tools(w)
    if folder_answer is not None:
        w.presentation_states.choose_folder = lambda: str(folder_answer)
    if file_answer is not None:
        w.presentation_states.choose_file = lambda: str(file_answer)
    w.show()
    qtbot.waitExposed(w)
    return w, tools


def _open(qtbot, w, path):
    w.open_paths([path])
    qtbot.waitUntil(lambda: w.image_view.rad is not None and w.image_view.rad.path == path, timeout=60_000)
    QApplication.processEvents()


def _close(w):
    w.close()
    w.loader.shutdown()


def test_gsps_round_trip_and_a_fresh_session_applies_it(qtbot, tmp_path, monkeypatch):
    film = real_dicom(FILM)
    out = tmp_path / "exports"
    w, tools = _window(qtbot, folder_answer=out)
    _open(qtbot, w, film)
    c = tools.main
    for a in DRAWN:
        c.add(a)
    w.image_view.set_window(600.0, 900.0, "Soft tissue", "SIGMOID")
    labels = {a.uid: c.label_for(a) for a in DRAWN}
    assert labels[DRAWN[0].uid] == "182.6 mm at detector"
    path = w.presentation_states.export()
    assert path is not None and path.parent == out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # patient data
    assert not list(film.parent.glob("GSPS_*"))  # nothing beside the input
    _close(w)

    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == gsps.GSPS_SOP_CLASS and ds.Modality == "PR"
    assert ds.PatientID == "10RG2"
    assert gsps.referenced_sop_uids(ds) == {pydicom.dcmread(film, stop_before_pixels=True).SOPInstanceUID}
    # graphics as written: layer, type, PIXEL coordinates
    by_layer = {item.GraphicLayer: item for item in ds.GraphicAnnotationSequence}
    assert set(by_layer) == {"DISTANCE", "ANGLE", "ARROW", "TEXT", "ROI", "CTR"}
    line = by_layer["DISTANCE"].GraphicObjectSequence[0]
    assert line.GraphicType == "POLYLINE" and line.GraphicAnnotationUnits == "PIXEL"
    assert [float(v) for v in line.GraphicData] == [100.0, 100.0, 1013.0, 100.0]
    assert by_layer["DISTANCE"].TextObjectSequence[0].UnformattedTextValue == "182.6 mm at detector"
    angle = by_layer["ANGLE"].GraphicObjectSequence[0]
    assert [float(v) for v in angle.GraphicData] == [400.0, 300.0, 500.25, 400.5, 650.0, 300.0]
    ellipse = by_layer["ROI"].GraphicObjectSequence[0]
    assert ellipse.GraphicType == "ELLIPSE"
    assert [float(v) for v in ellipse.GraphicData] == [500.0, 575.0, 700.0, 575.0, 600.0, 500.0, 600.0, 650.0]
    roi_text = by_layer["ROI"].TextObjectSequence[0].UnformattedTextValue
    assert roi_text.startswith("mean ") and "SD" in roi_text
    text = by_layer["TEXT"].TextObjectSequence[0]
    assert text.UnformattedTextValue == "R hip" and [float(v) for v in text.AnchorPoint] == [60.0, 2000.0]
    ctr_lines = [[float(v) for v in g.GraphicData] for g in by_layer["CTR"].GraphicObjectSequence]
    assert ctr_lines == [[600.0, 1200.0, 1000.0, 1200.0], [300.0, 1400.0, 1400.0, 1400.0]]
    assert by_layer["CTR"].TextObjectSequence[0].UnformattedTextValue.startswith("CTR 0.36")
    assert ds.ContentLabel == "CXVIEWER" and ds.file_meta.MediaStorageSOPClassUID == gsps.GSPS_SOP_CLASS
    assert gsps.read_annotations(ds, film_sop(film)) == DRAWN  # same annotations, same coordinates
    voi = ds.SoftcopyVOILUTSequence[0]
    assert (float(voi.WindowCenter), float(voi.WindowWidth), voi.VOILUTFunction) == (600.0, 900.0, "SIGMOID")
    assert gsps.read_window(ds) == gsps.PresentationWindow(600.0, 900.0, "Soft tissue", "SIGMOID")

    # a fresh session (no saved annotations) applies the file
    monkeypatch.setenv("CXVIEWER_HOME", str(tmp_path / "fresh-home"))
    w2, tools2 = _window(qtbot, file_answer=path)
    _open(qtbot, w2, film)
    assert tools2.main.doc.annotations == []
    assert w2.presentation_states.import_file() == len(DRAWN)
    assert tools2.main.doc.annotations == DRAWN
    shown = w2.image_view.window
    assert (shown.center, shown.width, shown.function) == (600.0, 900.0, "SIGMOID")  # the state's window too
    assert tools2.main.graphics[DRAWN[0].uid].text() == "182.6 mm at detector"
    assert w2.presentation_states.import_file() == 0  # not added twice
    tools2.main.undo_stack.undo()  # the whole import is one step
    assert tools2.main.doc.annotations == []
    _close(w2)


def film_sop(path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def test_export_beside_the_films_is_refused(qtbot, tmp_path):
    folder = tmp_path / "films"
    folder.mkdir()
    film = shutil.copy(real_dicom("CR_tiny_1.dcm"), folder / "tiny.dcm")
    w, tools = _window(qtbot, folder_answer=folder)
    _open(qtbot, w, film)
    tools.main.add(Annotation("distance", ((1, 1), (10, 10))))
    assert w.presentation_states.export() is None
    assert "does not write beside its inputs" in w.status.currentMessage()
    assert sorted(p.name for p in folder.iterdir()) == ["tiny.dcm"]
    _close(w)


def test_a_presentation_state_beside_an_opened_film_is_found_and_applied(qtbot, tmp_path):
    source = real_dicom("CR_tiny_2.dcm")
    header = pydicom.dcmread(source, stop_before_pixels=True)
    drawn = [Annotation("ellipse", ((2.0, 2.0), (12.0, 10.0))), Annotation("text", ((3.0, 14.0),), "note")]
    ds = gsps.build_presentation_state(header, drawn, {})
    made = gsps.write_presentation_state(ds, tmp_path / "made", [source])
    delivered = tmp_path / "delivered"  # e.g. a PACS export: the film and its presentation state
    delivered.mkdir()
    film = shutil.copy(source, delivered / "film.dcm")
    shutil.copy(made, delivered / made.name)
    w, tools = _window(qtbot)
    _open(qtbot, w, film)
    ps = w.presentation_states
    qtbot.waitUntil(lambda: [p.name for p in ps.found] == [made.name], timeout=60_000)  # looked up off-thread
    assert w.actions_by_name["gsps_apply_found"].isEnabled()
    w.actions_by_name["gsps_apply_found"].trigger()
    assert tools.main.doc.annotations == drawn
    _close(w)


def test_presentation_states_are_looked_for_off_the_gui_thread_and_a_stale_answer_is_dropped(
        qtbot, tmp_path, monkeypatch):
    import threading

    threads = []
    real_scan = gsps.scan_presentation_states

    def recording_scan(folder):
        threads.append(threading.current_thread())
        return real_scan(folder)

    monkeypatch.setattr(gsps, "scan_presentation_states", recording_scan)  # the actions import it on use
    source = real_dicom("CR_tiny_2.dcm")
    header = pydicom.dcmread(source, stop_before_pixels=True)
    drawn = [Annotation("text", ((3.0, 14.0),), "note")]
    made = gsps.write_presentation_state(gsps.build_presentation_state(header, drawn, {}), tmp_path / "made",
                                         [source])
    delivered, plain = tmp_path / "delivered", tmp_path / "plain"
    delivered.mkdir()
    plain.mkdir()
    film = shutil.copy(source, delivered / "film.dcm")
    shutil.copy(made, delivered / made.name)
    other = shutil.copy(real_dicom("CR_tiny_3.dcm"), plain / "other.dcm")
    w, _tools = _window(qtbot)
    w.open_paths([film, other])
    qtbot.waitUntil(lambda: not w.loader.busy() and not w._batches and w.image_view.rad is not None,
                    timeout=60_000)
    qtbot.waitUntil(lambda: not w.presentation_states._scanning, timeout=60_000)
    QApplication.processEvents()
    ps = w.presentation_states
    ps._folders.clear()  # both folders to be looked through again
    assert w.cache.get(film) is not None and w.cache.get(other) is not None
    # the film with a presentation state, then at once another film: the first answer is stale
    landed = []
    w.loader.signals.lookedUp.connect(lambda token, _r: landed.append((token, threading.current_thread())),
                                      Qt.ConnectionType.QueuedConnection)  # after the viewer's own slot
    w.show_image(film)
    w.show_image(other)
    assert ps.found == []  # nothing read on the GUI thread
    qtbot.waitUntil(lambda: len(landed) == 2, timeout=60_000)
    assert {t[1].name for t, _th in landed} == {"delivered", "plain"} and {th for _t, th in landed} == {threading.main_thread()}
    assert w.image_view.rad.path == other
    assert ps.found == [] and not w.actions_by_name["gsps_apply_found"].isEnabled()
    assert threads and all(t is not threading.main_thread() for t in threads)
    # the stale answer was kept for its folder: back to the film, its presentation state is offered at once
    count = len(threads)
    w.show_image(film)
    assert [p.name for p in ps.found] == [made.name] and len(threads) == count
    assert w.actions_by_name["gsps_apply_found"].isEnabled()
    _close(w)


def test_foreign_and_damaged_presentation_states(tmp_path):
    header = pydicom.dcmread(real_dicom("CR_tiny_3.dcm"), stop_before_pixels=True)
    with pytest.raises(gsps.PresentationStateError):
        gsps.read_annotations(header, header.SOPInstanceUID)  # a film is not a presentation state
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"DICM" * 10)
    with pytest.raises(gsps.PresentationStateError):
        gsps.load_presentation_state(broken, header.SOPInstanceUID)
    # a foreign GSPS: its own layer name, no groups -> read by shape
    ds = gsps.build_presentation_state(header, [Annotation("angle", ((1, 1), (5, 5), (9, 1)))], {})
    ds.GraphicAnnotationSequence[0].GraphicLayer = "OTHER"
    ds.GraphicLayerSequence[0].GraphicLayer = "OTHER"
    got = gsps.read_annotations(ds, header.SOPInstanceUID)
    assert [a.kind for a in got] == ["angle"] and got[0].points == ((1, 1), (5, 5), (9, 1))
    assert gsps.read_annotations(ds, "1.2.3.4") == []  # another film


def test_a_film_uid_that_is_a_path_cannot_move_the_presentation_state_out_of_its_folder(tmp_path):
    """Films are read with force=True: a SOP Instance UID such as ``1/../../evil`` names a file, never a path."""
    source = real_dicom("CR_tiny_2.dcm")
    header = pydicom.dcmread(source, stop_before_pixels=True)
    header.SOPInstanceUID = "1/../../evil"
    ds = gsps.build_presentation_state(header, [Annotation("text", ((3.0, 14.0),), "note")], {})
    out = tmp_path / "a" / "b"
    made = gsps.write_presentation_state(ds, out, [source])
    assert made.parent == out and made.name.startswith("GSPS_x") and made.name.endswith(".dcm")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["a", "a/b", f"a/b/{made.name}"]
