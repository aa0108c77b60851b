"""PACS in the viewer, headless, against a real Orthanc: nodes, Query/Retrieve dialog, listener toggle."""

from __future__ import annotations

import logging
import stat

import pytest

from cxviewer.ui.main_window import MainWindow
from cxviewer.ui.pacs.dialog import QueryRetrieveDialog, install_pacs
from cxviewer.ui.pacs.nodes import PacsNodesDialog, configured_nodes
from cxviewer.ui.pacs.task import PacsTask
from cxviewer.settings import Settings
from tests.orthanc_server import LISTENER_AET, ORTHANC_AET

RG1_STUDY = "1.3.6.1.4.1.5962.1.2.9.20040826185059.5457"


def _settings(orthanc=None, **pacs) -> Settings:
    settings = Settings.load()
    entry = dict(settings["pacs"])
    if orthanc is not None:
        entry["nodes"] = [{"name": "Test Orthanc", "address": orthanc.address}]
        entry["listener_port"] = orthanc.listener_port
    entry.update(pacs)
    settings["pacs"] = entry
    return settings


@pytest.fixture
def window(qtbot):
    def make(settings: Settings) -> MainWindow:
        w = MainWindow(settings)
        qtbot.addWidget(w)
        install_pacs(w)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    made: list[MainWindow] = []
    yield make
    for w in made:
        w.pacs_listener.shutdown()
        w.loader.shutdown()


def _browser_text(window) -> str:
    def walk(tree):
        for text, children in tree:
            yield text
            yield from walk(children)

    return "\n".join(walk(window.study_browser.model.tree()))


def test_without_a_node_there_is_no_network(qtbot, window):
    w = window(_settings())
    dialog = QueryRetrieveDialog(w.settings, w)
    qtbot.addWidget(dialog)
    assert not dialog.search_button.isEnabled() and not dialog.retrieve_button.isEnabled()
    assert "No PACS node" in dialog.status.text()
    w.pacs_listener.action.trigger()  # no node: nobody would be allowed to send, so it stays off
    assert not w.pacs_listener.action.isChecked() and w.pacs_listener.listener is None
    assert "No DIMSE node" in w.pacs_listener.toolTip()


def test_query_results_read_as_everywhere_else(qtbot, window):
    """A peer's study list uses the viewer's DICOM value rules: PN groups, DA dates, escaped identifiers."""
    from cxviewer.pacs.query import StudyResult

    w = window(_settings())
    dialog = QueryRetrieveDialog(w.settings, w)
    qtbot.addWidget(dialog)
    dialog.show_results([StudyResult(study_uid="1.2.3", patient_id="\u202e1234", study_date="2024.01.31",
                                     patient_name="YAMADA^TARO=山田^太郎", modalities=("CR",), instances=2)])
    row = [dialog.table.item(0, col).text() for col in range(3)]
    assert row == ["YAMADA, TARO (山田 太郎)", "\\u202E1234", "2024-01-31"]


def test_nodes_dialog_checks_saves_and_keeps_passwords_out_of_logs(qtbot, caplog, tmp_path):
    settings = _settings()
    dialog = PacsNodesDialog(settings)
    qtbot.addWidget(dialog)
    dialog.address.setText("not an address")
    dialog._add()
    assert "not an address" in dialog.message.text() and dialog.entries == []
    dialog.name.setText("Hospital PACS")
    dialog.address.setText("https://pacs.example.org/dicom-web")
    dialog.username.setText("reader")
    dialog.password.setText("s3cret-pw")
    dialog._add()
    dialog.listener_port.setValue(11113)
    dialog._accept()
    saved = Settings.load(settings.path)
    assert saved["pacs"]["nodes"][0]["address"] == "https://pacs.example.org/dicom-web"
    assert saved["pacs"]["listener_port"] == 11113
    assert stat.S_IMODE(settings.path.stat().st_mode) == 0o600  # the file with the password is the user's alone
    (node,) = configured_nodes(saved)
    assert node.is_web and node.password == "s3cret-pw" and "s3cret-pw" not in repr(node)
    broken = _settings(nodes=[{"name": "old", "address": "bad", "password": "s3cret-pw"}])
    with caplog.at_level(logging.WARNING):
        assert configured_nodes(broken) == []
    assert "old" in caplog.text and "s3cret-pw" not in caplog.text


def _search(qtbot, dialog, patient_id: str = "") -> None:
    dialog.patient_id.setText(patient_id)
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog._task is not None and not dialog._task.running and dialog.search_button.isEnabled(),
                    timeout=30_000)


def test_query_retrieve_dialog_finds_retrieves_and_opens(orthanc, qtbot, window, cxviewer_home):
    w = window(_settings(orthanc))
    w.actions_by_name["query_retrieve"].trigger()
    dialog = w._query_retrieve_dialog
    assert dialog.isVisible() and not dialog.isModal()
    _search(qtbot, dialog)
    assert dialog.table.rowCount() >= 3  # RG1, RG2 and the C-spine study (and what other tests sent)
    _search(qtbot, dialog, "9RG1")
    assert dialog.table.rowCount() == 1, dialog.status.text()
    row = [dialog.table.item(0, c).text() for c in range(dialog.table.columnCount())]
    assert row[:4] == ["CompressedSamples, RG1", "9RG1", "2004-08-26", "THORAX"]
    assert "CR" in row[4].split(", ")  # plus SR once another test has stored an AI result there
    dialog.table.selectRow(0)
    dialog.retrieve_button.click()
    qtbot.waitUntil(lambda: "CompressedSamples, RG1" in _browser_text(w), timeout=60_000)
    files = list((cxviewer_home / "data" / "pacs" / "retrieved" / RG1_STUDY).glob("*.dcm"))
    assert len(files) >= 1 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert "Retrieved 1 study" in dialog.status.text()
    dialog.close()


def test_a_cancelled_retrieval_leaves_nothing(orthanc, qtbot, window, cxviewer_home):
    w = window(_settings(orthanc))
    dialog = QueryRetrieveDialog(w.settings, w)
    qtbot.addWidget(dialog)
    _search(qtbot, dialog, "9RG1")
    dialog.table.selectRow(0)
    dialog.retrieve()
    assert dialog.cancel_button.isEnabled()
    dialog.cancel()  # before the first object can have arrived
    qtbot.waitUntil(lambda: not dialog._task.running and dialog.search_button.isEnabled(), timeout=30_000)
    assert "cancelled" in dialog.status.text().lower(), dialog.status.text()
    assert not list((cxviewer_home / "data" / "pacs").rglob("*.dcm"))


def test_listener_toggle_receives_a_c_move_and_opens_the_study(orthanc, qtbot, window):
    w = window(_settings(orthanc, listener_ae=LISTENER_AET))
    toggle = w.pacs_listener
    toggle.action.trigger()
    assert toggle.listener is not None and "receiving as CXVLISTEN" in toggle.action.text()
    assert toggle.listener.allowed == {ORTHANC_AET}  # only the configured node may send

    def move(cancel, progress):
        from cxviewer.pacs import Node
        from cxviewer.pacs.dimse import DimseClient

        node = Node(ae_title=ORTHANC_AET, host="127.0.0.1", port=orthanc.dicom_port)
        return DimseClient(node).move(RG1_STUDY, LISTENER_AET)

    task = PacsTask(move)
    outcome = []
    task.succeeded.connect(outcome.append)
    task.failed.connect(lambda m, c: outcome.append(m))
    task.start()
    qtbot.waitUntil(lambda: bool(outcome), timeout=60_000)
    assert outcome[0].completed >= 1, outcome
    qtbot.waitUntil(lambda: "CompressedSamples, RG1" in _browser_text(w), timeout=30_000)
    assert toggle.listener.received >= 1
    toggle.action.trigger()
    assert toggle.listener is None and toggle.action.text() == "PACS listener off"
    # the stop finishes off the GUI thread; switched on again at once, the listener gets its port back
    toggle.action.trigger()
    assert toggle.listener is not None and toggle.listener.port == orthanc.listener_port, toggle.toolTip()
    toggle.action.trigger()
    assert toggle.listener is None


def test_send_ai_result_from_the_report_pane(orthanc, qtbot, window, dicom_dir, cxviewer_home):
    """The result for the image on screen goes to the PACS as an SR in the image's study."""
    import pydicom

    from cxviewer.model.prediction import Prediction
    from cxviewer.pacs.sr import read_sr
    from cxviewer.ui.report.install import install_report_dock

    w = MainWindow(_settings(orthanc))
    qtbot.addWidget(w)
    dock = install_report_dock(w)
    install_pacs(w, report_dock=dock)
    sender = w.pacs_sender
    assert sender.panel.isVisibleTo(dock) and sender.send_button.isEnabled()
    image = dicom_dir / "RG1_J2KR.dcm"
    w.open_paths([image], remember=False)
    qtbot.waitUntil(lambda: w.image_view.rad is not None and w.current_path == image, timeout=120_000)
    sender.send_button.click()
    assert "No AI result" in sender.message.text()
    # A classification as the inference service delivers it (the model itself runs in test_pacs_orthanc).
    sender.remember(str(image), Prediction(labels=("covid", "pneumonia", "normal"), probabilities=(0.2, 0.3, 0.5),
                                           model_name="cxnet-test", model_version="9.9", elapsed_ms=1.0, device="CPU"))
    sender.send_button.click()
    qtbot.waitUntil(lambda: not sender.message.text().startswith("Sending"), timeout=60_000)
    assert "stored on Test Orthanc" in sender.message.text(), sender.message.text()
    (sr_path,) = (cxviewer_home / "data" / "pacs" / "outbox").glob("*.dcm")
    assert stat.S_IMODE(sr_path.stat().st_mode) == 0o600
    ds = pydicom.dcmread(sr_path)
    back = read_sr(ds)
    assert back.probabilities == pytest.approx({"covid": 0.2, "pneumonia": 0.3, "normal": 0.5})
    assert back.call == "normal" and back.algorithm == ("cxnet-test", "9.9")
    listed = {i["MainDicomTags"]["SOPInstanceUID"] for i in orthanc.study_instances(RG1_STUDY)}
    assert str(ds.SOPInstanceUID) in listed
    w.loader.shutdown()


def test_send_report_from_the_report_pane(orthanc, qtbot, dicom_dir, cxviewer_home, tmp_path):
    """Only a Final report is sent; it lands in the film's study as an Encapsulated PDF (a new anonymous
    study when "Anonymise export" is ticked), and the PDF inside is the one the pane renders."""
    import pydicom
    from pydicom.uid import EncapsulatedPDFStorage

    from cxviewer.pacs.report_document import pdf_from_document
    from cxviewer.ui.report.install import install_report_dock
    from tests.pdf_readback import read_text

    w = MainWindow(_settings(orthanc))
    qtbot.addWidget(w)
    dock = install_report_dock(w)
    install_pacs(w, report_dock=dock)
    sender = w.pacs_sender
    action = w.actions_by_name["send_report_to_pacs"]
    assert action.text() == "Send report to PACS" and action.shortcut().toString() == "Ctrl+Shift+P"
    pacs_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&PACS")
    assert action in pacs_menu.actions()
    assert not sender.send_report_button.isEnabled() and not action.isEnabled()  # no study open
    image = dicom_dir / "RG1_J2KR.dcm"
    w.open_paths([image], remember=False)
    qtbot.waitUntil(lambda: w.image_view.rad is not None and dock.report is not None, timeout=120_000)
    assert not sender.send_report_button.isEnabled()  # a draft
    sender.send_report()
    assert "Finalise the report first" in sender.message.text()
    dock.editors["impression"].setPlainText("No focal consolidation.")
    dock.reader_edit.setText("Dr Sender")
    dock.finalize()
    assert sender.send_report_button.isEnabled() and action.isEnabled()

    outbox = cxviewer_home / "data" / "pacs" / "outbox"

    def send() -> pydicom.Dataset:
        before = set(outbox.glob("report-*.dcm"))
        action.trigger()
        assert not sender.send_report_button.isEnabled()  # one send at a time
        qtbot.waitUntil(action.isEnabled, timeout=60_000)  # the send finished (and the next may start)
        (path,) = set(outbox.glob("report-*.dcm")) - before
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not list(outbox.glob("*.pdf"))
        ds = pydicom.dcmread(path)
        (tmp_path / "sent.pdf").write_bytes(pdf_from_document(ds))
        return ds

    ds = send()
    assert "Report stored on Test Orthanc in the film's study" in sender.message.text(), sender.message.text()
    assert ds.SOPClassUID == EncapsulatedPDFStorage and ds.VerificationFlag == "VERIFIED"
    assert (ds.PatientID, ds.StudyInstanceUID) == ("9RG1", RG1_STUDY)
    text = read_text(tmp_path / "sent.pdf")
    assert "Dr Sender" in text and "9RG1" in text and "No focal consolidation." in text
    assert str(ds.SOPInstanceUID) in {i["MainDicomTags"]["SOPInstanceUID"] for i in orthanc.study_instances(RG1_STUDY)}

    dock.anonymise_box.setChecked(True)
    anon = send()
    assert f"Anonymised report stored on Test Orthanc as a new study (patient ID {anon.PatientID})" in sender.message.text()
    assert anon.PatientID.startswith("ANON-") and anon.StudyInstanceUID != RG1_STUDY and anon.PatientName == ""
    text = read_text(tmp_path / "sent.pdf")
    assert "Anonymised export" in text and "9RG1" not in text and "No focal consolidation." in text
    assert [i["MainDicomTags"]["SOPInstanceUID"] for i in orthanc.study_instances(str(anon.StudyInstanceUID))] == [
        str(anon.SOPInstanceUID)]
    # a node that does not answer: the message says so, and nothing is left in the outbox for it
    from tests.orthanc_server import free_port

    w.settings["pacs"] = {**w.settings["pacs"], "nodes": [{"name": "Gone", "address": f"GONE@127.0.0.1:{free_port()}"}]}
    kept = set(outbox.iterdir())
    action.trigger()
    assert not action.isEnabled()
    qtbot.waitUntil(action.isEnabled, timeout=60_000)
    assert sender.message.text().startswith("Report not sent: cannot connect to 127.0.0.1:"), sender.message.text()
    assert set(outbox.iterdir()) == kept
    w.loader.shutdown()


def test_a_task_stops_counting_as_running_when_its_outcome_shows(qtbot):
    """The outcome reaches the GUI while the worker thread may still be ending; a button clicked as the outcome shows
    ("Test" again, Retrieve after a query) must be taken, not ignored because that thread has not exited yet."""
    import threading

    from PySide6.QtCore import Qt

    release = threading.Event()
    task = PacsTask(lambda cancel, progress: 42)
    seen = []
    task.succeeded.connect(lambda result: seen.append((result, task.running)))
    task.finished.connect(lambda: release.wait(10), Qt.ConnectionType.DirectConnection)  # the thread lingers
    task.start()
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
        assert task._thread.is_alive() and seen == [(42, False)]
    finally:
        release.set()
    assert task.wait(10) and not task.running
