"""The report pane (pytest-qt, offscreen): header, autosave and restore, AI block, Final, exports."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from cxviewer.imaging import DisplayState, Window, read_radiograph, render_display
from cxviewer.model import Prediction
from cxviewer.report import DraftStore
from cxviewer.ui.report.dock import ReportDock
from cxviewer.ui.report.install import install_report_dock
from pdf_readback import page_sizes_pt, read_images, read_text, squash
from report_samples import JAPANESE, dicom_copy, edge_energy_map


@pytest.fixture
def rad(tmp_path):
    return read_radiograph(dicom_copy(tmp_path, **JAPANESE))


@pytest.fixture
def prediction(rad):
    """Input for the pane (a Prediction value with a real computed map), not a model result."""
    image = render_display(rad)
    return Prediction(labels=("covid", "pneumonia", "normal"), probabilities=(0.1, 0.3, 0.6),
                      model_name="cxnet-densenet121", model_version="1.0.0", elapsed_ms=700.0, device="CPU",
                      heatmap=edge_energy_map(image))


def make_dock(qtbot, settings=None):
    dock = ReportDock(store=DraftStore(), settings=settings, autosave_ms=50)
    qtbot.addWidget(dock)
    return dock


def test_header_and_technique(qtbot, rad):
    dock = make_dock(qtbot)
    dock.set_radiograph(rad)
    labels = {k: v.text() for k, v in dock.header_labels.items()}
    assert labels["patient_name"] == "Yamada, Tarou (山田 太郎 / やまだ たろう)"
    assert labels["patient_id"] == "JP-000123" and labels["birth_date"] == "1958-04-12"
    assert labels["sex"] == "Male" and labels["accession_number"] == "ACC-98765"
    assert labels["study_date"] == "2024-01-31 10:15" and labels["study_description"] == "Thorax PA"
    assert labels["view_position"] == "PA"
    assert dock.editors["technique"].toPlainText().startswith("Computed radiography (CR)")
    assert "Draft" in dock.status_label.text()


def test_autosave_on_edit_and_restore_in_a_new_pane(qtbot, rad):
    dock = make_dock(qtbot)
    dock.set_radiograph(rad)
    with qtbot.waitSignal(dock.saved, timeout=3000) as saved:
        dock.editors["findings"].setPlainText("Small nodule, left upper zone. 山田太郎")
        dock.reader_edit.setText("Dr. Ørsted")
    data = json.loads(open(saved.args[0], encoding="utf-8").read())
    assert data["sections"]["findings"] == "Small nodule, left upper zone. 山田太郎"
    assert data["reader_name"] == "Dr. Ørsted"

    # "restart": a brand-new pane with a fresh store reopens the same study
    again = make_dock(qtbot)
    again.set_radiograph(read_radiograph(rad.path))
    assert again.editors["findings"].toPlainText() == "Small nodule, left upper zone. 山田太郎"
    assert again.reader_edit.text() == "Dr. Ørsted"
    assert "restored" in again.saved_label.text()


def test_switching_study_saves_at_once(qtbot, rad, tmp_path):
    dock = ReportDock(store=DraftStore(), autosave_ms=60_000)  # the timer would not fire in time
    qtbot.addWidget(dock)
    dock.set_radiograph(rad)
    dock.editors["impression"].setPlainText("Normal.")
    other = read_radiograph(dicom_copy(tmp_path, name="other.dcm", StudyInstanceUID="1.2.3.4.5.6.7",
                                       PatientName="Other^Patient"))
    dock.set_radiograph(other)
    assert dock.editors["impression"].toPlainText() == ""
    dock.set_radiograph(read_radiograph(rad.path))
    assert dock.editors["impression"].toPlainText() == "Normal."


def test_ai_block_and_copy_to_findings(qtbot, rad, prediction):
    dock = make_dock(qtbot)
    dock.set_radiograph(rad)
    assert "No AI result" in dock.ai_label.text() and not dock.copy_ai_button.isEnabled()
    dock.set_prediction(prediction)
    text = dock.ai_label.text()
    assert "<b>Normal</b>" in text and "60.0 %" in text and "cxnet-densenet121 1.0.0" in text
    dock.editors["findings"].setPlainText("Clear lungs.")
    qtbot.mouseClick(dock.copy_ai_button, Qt.MouseButton.LeftButton)
    findings = dock.editors["findings"].toPlainText()
    assert findings.startswith("Clear lungs.\n\nAI second opinion (cxnet-densenet121 1.0.0): leading class Normal")
    assert "not a diagnosis" in findings


def test_final_is_read_only_and_amend_keeps_the_signed_version(qtbot, rad):
    dock = make_dock(qtbot)
    dock.set_radiograph(rad)
    dock.editors["impression"].setPlainText("No acute disease.")
    with pytest.raises(ValueError):
        dock.finalize()  # no reader name yet
    dock.reader_edit.setText("Dr. A")
    dock.finalize()
    assert "Final" in dock.status_label.text() and dock.editors["impression"].isReadOnly()
    assert dock.final_button.text().startswith("Amend")
    # a stale pane that still holds the draft cannot overwrite the Final
    stale = make_dock(qtbot)
    stale.report = dock.store.load(dock.report.study_key).reopen_as_draft()
    stale.report.sections["impression"] = "stale"
    stale._dirty = True
    assert stale.save_now() is None and "Final" in stale.saved_label.text()
    assert dock.store.load(dock.report.study_key).sections["impression"] == "No acute disease."
    dock.amend()
    assert "Draft" in dock.status_label.text() and not dock.editors["impression"].isReadOnly()
    assert len(dock.store.archived_finals(dock.report.study_key)) == 1


def test_exports_pdf_and_json(qtbot, rad, prediction, tmp_path):
    dock = make_dock(qtbot, settings={"report": {"page_size": "Letter", "institution": "Kyoto Clinic"}})
    dock.set_radiograph(rad)
    dock.set_prediction(prediction)
    dock.editors["impression"].setPlainText("Normal study.")
    dock.display_provider = lambda: DisplayState(Window.custom(-600, 1500, "Lung"), inverted=True)
    pdf = dock.export_pdf(tmp_path / "out" / "r.pdf", anonymise=False)
    text = read_text(pdf)
    assert "Kyoto Clinic" in text and "Normal study." in text and "JP-000123" in text
    assert squash("Lung, centre -600 / width 1500, inverted") in squash(text)
    assert page_sizes_pt(pdf)[0] == pytest.approx((612, 792), abs=1)
    assert len([im for im in read_images(pdf) if im.height > 20]) == 2
    anon = dock.export_pdf(tmp_path / "out" / "anon.pdf", anonymise=True)
    assert "JP-000123" not in read_text(anon)
    js = dock.export_json(tmp_path / "out" / "r.json", anonymise=True)
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["anonymised"] and data["ai"]["label"] == "normal" and "JP-000123" not in js.read_text()
    with pytest.raises(ValueError):
        dock.export_json(rad.path)  # never over the radiograph itself


def test_install_on_the_main_window(qtbot, rad, prediction):
    from PySide6.QtCore import QObject, Signal

    from cxviewer.ui.main_window import MainWindow

    class Inference(QObject):  # the InferenceService's result signal, driven by hand
        result = Signal(str, object)

        def cached(self, key: str):  # nothing analysed before
            return None

    from cxviewer.ui.ai.panel import AIPanel

    window = MainWindow()
    qtbot.addWidget(window)
    inference, panel = Inference(), AIPanel()
    panel.set_overlay_style("plasma", 0.3)  # the style the panel shows when the pane is wired is taken at once
    dock = install_report_dock(window, inference=inference, ai_panel=panel)
    assert dock.overlay_style == {"colormap": "plasma", "opacity": 0.3}
    panel.set_overlay_style("viridis", 0.7)  # and every change after
    assert dock.overlay_style == {"colormap": "viridis", "opacity": 0.7}
    assert dock.objectName() == "reportDock" and dock in window.findChildren(ReportDock)
    window.image_view.set_radiograph(rad)
    assert dock.header_labels["patient_id"].text() == "JP-000123"
    inference.result.emit("some/other/image.dcm", prediction)
    assert dock.report.ai is None  # a result for another image is not taken
    inference.result.emit(str(rad.path), prediction)
    assert dock.report.ai is not None and dock.heatmap is not None
    window.image_view.set_radiograph(None)
    assert dock.report is None and not dock.pdf_button.isEnabled()


def test_final_report_keeps_its_ai_block_and_overlay_of_the_same_model(qtbot, rad, prediction, tmp_path):
    import dataclasses

    dock = make_dock(qtbot)
    dock.set_radiograph(rad)
    dock.set_prediction(prediction)
    dock.editors["impression"].setPlainText("Normal.")
    dock.reader_edit.setText("Dr. A")
    dock.finalize()
    other_model = dataclasses.replace(prediction, model_name="other-model", probabilities=(0.8, 0.1, 0.1))
    dock.set_prediction(other_model)  # e.g. the reader switched models after signing
    assert dock.report.ai.model_name == "cxnet-densenet121" and dock.report.ai.label == "normal"
    pdf = dock.export_pdf(tmp_path / "final.pdf")
    assert len([im for im in read_images(pdf) if im.height > 20]) == 1  # no overlay from another model
    assert "FINAL" in read_text(pdf) and "other-model" not in read_text(pdf)


def test_pdf_image_and_overlay_carry_the_views_rotation(qtbot, rad, prediction, tmp_path, monkeypatch):
    import numpy as np

    from cxviewer.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    dock = install_report_dock(window)
    window.image_view.set_radiograph(rad)
    window.image_view.set_radiograph(rad)
    window.image_view.rotate()  # 90 degrees clockwise on screen
    window.image_view.flip_horizontal()
    captured = {}
    import cxviewer.report.pdf as pdf

    real = pdf.render_report_pdf

    def spy(path, report, image, heatmap=None, **kw):
        captured.update(image=image, heatmap=heatmap, caption=kw["options"].image_caption)
        return real(path, report, image, heatmap, **kw)

    monkeypatch.setattr(pdf, "render_report_pdf", spy)
    dock.heatmap, dock._heatmap_model = prediction.heatmap, ("cxnet-densenet121", "1.0.0")
    from cxviewer.report.ai_block import AIBlock

    dock.report.ai = AIBlock.from_prediction(prediction)
    dock.export_pdf(tmp_path / "r.pdf")
    shown = render_display(rad)
    # rotate clockwise then mirror: the on-screen picture is the transpose of the original
    assert captured["image"].shape == shown.shape[::-1]
    np.testing.assert_array_equal(captured["image"], shown.T)
    np.testing.assert_array_equal(captured["heatmap"], prediction.heatmap.T)
    # described as the view's own status line does: mirror first, then the turn (same picture)
    assert "mirrored, rotated 270" in captured["caption"]


def test_pdf_shows_the_views_window_with_its_voi_function(qtbot, tmp_path, monkeypatch):
    """The PDF renders the view's own DisplayState: a window dragged on a SIGMOID header stays SIGMOID
    (the pane used to re-render it as LINEAR), inverted as on screen, with the caption of that state."""
    import numpy as np

    import cxviewer.report.pdf as pdf
    from cxviewer.imaging import apply_voi
    from cxviewer.ui.main_window import MainWindow

    rad = read_radiograph(dicom_copy(tmp_path, VOILUTFunction="SIGMOID", WindowCenter="550", WindowWidth="1024"))
    assert rad.voi_function == "SIGMOID"
    window = MainWindow()
    qtbot.addWidget(window)
    dock = install_report_dock(window)
    window.image_view.set_radiograph(rad)
    window.image_view.set_radiograph(rad)
    window.image_view.set_window(500, 800)  # as a drag leaves it: the header's function, another window
    window.image_view.set_inverted(True)
    captured = {}
    real = pdf.render_report_pdf

    def spy(path, report, image, heatmap=None, **kw):
        captured.update(image=image, caption=kw["options"].image_caption)
        return real(path, report, image, heatmap, **kw)

    monkeypatch.setattr(pdf, "render_report_pdf", spy)
    dock.export_pdf(tmp_path / "r.pdf")
    sigmoid = apply_voi(rad.pixels, (500, 800), monochrome1=True, function="SIGMOID")
    np.testing.assert_array_equal(captured["image"], 255 - sigmoid)
    assert not np.array_equal(captured["image"], 255 - apply_voi(rad.pixels, (500, 800), monochrome1=True))
    assert captured["caption"] == "Custom, centre 500 / width 800, inverted"
    assert window.image_view.display.render(rad).tobytes() == captured["image"].tobytes()


def test_the_export_button_paints_the_pdf_off_the_gui_thread_from_what_was_on_screen(qtbot, rad, prediction,
                                                                                     tmp_path, monkeypatch):
    """Export PDF...: the film, map and text are taken when the reader asks; Qt paints the PDF on another thread (a
    film with its Grad-CAM map took 0.2-0.3 s on the GUI thread), and text typed meanwhile is not in it."""
    import threading

    import cxviewer.report.pdf as pdf_module
    from PySide6.QtWidgets import QFileDialog

    dock = make_dock(qtbot)
    dock.set_radiograph(rad)
    dock.set_prediction(prediction)
    dock.editors["impression"].setPlainText("Clear lungs.")
    target = tmp_path / "r.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "PDF (*.pdf)")))
    painted_on, release = [], threading.Event()
    real = pdf_module.render_report_pdf

    def render(*args, **kwargs):
        painted_on.append(threading.current_thread())
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf_module, "render_report_pdf", render)
    with qtbot.waitSignal(dock.exported, timeout=60_000) as exported:
        dock.request_export("pdf")
        assert "Exporting" in dock.saved_label.text()  # back at once, the PDF still being painted
        dock.editors["impression"].setPlainText("Typed after asking.")
        release.set()
    assert painted_on and painted_on[0] is not threading.main_thread()
    assert exported.args == [str(target)] and dock.last_export_dir == tmp_path  # (the label may say "Draft saved")
    text = read_text(target)
    assert "Clear lungs." in text and "Typed after asking." not in text


@pytest.mark.parametrize("damage", ['{"schema": "cxviewer.report/1", "study_key": "K", "status": "Draft", "header": 5}',
                                    '{"sections": "x"}', "[1, 2]", "{not json"])
def test_a_damaged_draft_of_the_next_study_never_sends_typing_into_the_previous_one(qtbot, tmp_path, damage):
    """Study B's draft file is damaged (valid JSON of the wrong shape, or not JSON): opening B shows a fresh report
    for B, the damaged file is kept aside, and what is typed goes into B's draft, not into A's."""
    dock = make_dock(qtbot)
    a = read_radiograph(dicom_copy(tmp_path, name="a.dcm", PatientName="A^PATIENT", PatientID="PA-1",
                                   StudyInstanceUID="1.2.3.4.5.111"))
    b = read_radiograph(dicom_copy(tmp_path, name="b.dcm", PatientName="B^PATIENT", PatientID="PB-2",
                                   StudyInstanceUID="1.2.3.4.5.999"))
    dock.set_radiograph(a)
    dock.editors["findings"].setPlainText("Finding for A.")
    dock.save_now()
    key_b = dock.report.__class__.for_radiograph(b).study_key
    damaged = dock.store.path_for(key_b)
    damaged.write_text(damage.replace('"K"', json.dumps(key_b)), encoding="utf-8")
    dock.set_radiograph(b)
    assert dock.report.study_key == key_b and dock.report.header.patient_id == "PB-2"
    dock.editors["findings"].setPlainText("Finding for B.")
    dock.save_now()
    assert dock.store.load(dock.report.__class__.for_radiograph(a).study_key).sections["findings"] == "Finding for A."
    assert dock.store.load(key_b).sections["findings"] == "Finding for B."
    kept = [p for p in damaged.parent.iterdir() if p.name.startswith(damaged.stem + ".corrupt-")]
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == damage.replace('"K"', json.dumps(key_b))
