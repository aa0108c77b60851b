""""Send AI result to PACS" and "Send report to PACS" in the report pane (the second also in the
PACS menu): the model's result for the image on screen as a DICOM SR (``cxviewer.pacs.sr``), and the
finalised report as a DICOM Encapsulated PDF (``cxviewer.pacs.report_document``), each stored on a
configured node off the GUI thread.

Each object is written first to the app's data folder (``pacs/outbox/``, owner-only), never beside
the reader's files, then sent with C-STORE (or STOW-RS for a DICOMweb node). The report's PDF is
rendered on the GUI thread (Qt draws it) as the pane's "Anonymise export" box says, and removed once
it is inside the DICOM object.
"""

from __future__ import annotations

import copy
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cxviewer.files.uid_names import uid_file_stem
from cxviewer.pacs.errors import PacsError
from cxviewer.ui.pacs.nodes import configured_nodes
from cxviewer.ui.pacs.task import PacsTask

KEEP = 32  # predictions remembered (one per image path)
SEND_REPORT_TEXT = "Send report to PACS"
SEND_REPORT_SHORTCUT = "Ctrl+Shift+P"


def _outbox() -> Path:
    from cxviewer.pacs.storage import default_folder, private_dir

    return private_dir(default_folder() / "outbox")


def _store_file(node, pacs: dict, path: Path, what: str) -> None:
    """C-STORE (STOW-RS for a DICOMweb node) one file; a refusal raises ``PacsError`` with the peer's words."""
    from cxviewer.imaging.dicom_file import read_dataset, read_header
    from cxviewer.pacs.client import open_client

    client = open_client(node, calling_ae=pacs.get("calling_ae", "CXVIEWER"), timeout=float(pacs.get("timeout", 10)))
    files = [(path, read_header(path))]
    result = client.send(files, read=read_dataset) if node.is_web else client.send(files)
    if result.failed:
        raise PacsError("; ".join(result.messages or [f"the PACS refused the {what}"]))


class AIResultSender(QObject):
    """Remembers the model's result per image and sends the one on screen as an SR; sends the Final
    report as an Encapsulated PDF. One send at a time, to the node chosen in ``node_box``."""

    def __init__(self, window, report_dock=None):
        super().__init__(window)
        self.window_ = window
        self.report_dock = report_dock  # the pane whose Final report "Send report to PACS" sends
        self.predictions: OrderedDict[str, Any] = OrderedDict()
        self._service = None
        self._task: PacsTask | None = None
        self.panel = QWidget()
        self.panel.setObjectName("pacsSendPanel")
        self.node_box = QComboBox(self.panel)
        self.node_box.setObjectName("pacsSendNode")
        self.send_button = QPushButton("Send AI result to PACS", self.panel)
        self.send_button.setObjectName("pacsSendAI")
        self.send_button.setToolTip("Store the AI result for the image on screen as a DICOM Structured Report "
                                    "(research use, not a diagnosis) in its study on the chosen PACS")
        self.send_button.clicked.connect(self.send)
        self.send_report_button = QPushButton(SEND_REPORT_TEXT, self.panel)
        self.send_report_button.setObjectName("pacsSendReport")
        self.send_report_button.setToolTip("Store the finalised report as a DICOM Encapsulated PDF in the film's "
                                           "study (a new series) on the chosen PACS; with \"Anonymise export\" "
                                           "ticked, as a new anonymous study")
        self.send_report_button.clicked.connect(self.send_report)
        self.send_report_action = QAction(SEND_REPORT_TEXT, window)
        self.send_report_action.setObjectName("action_send_report_to_pacs")
        self.send_report_action.setShortcut(QKeySequence(SEND_REPORT_SHORTCUT))
        self.send_report_action.setStatusTip("Store the finalised report as a DICOM Encapsulated PDF on the PACS")
        self.send_report_action.triggered.connect(self.send_report)
        self.message = QLabel("", self.panel)
        self.message.setObjectName("pacsSendMessage")
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.send_button)
        row.addWidget(self.node_box, 1)
        layout = QVBoxLayout(self.panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.send_report_button)
        layout.addWidget(self.message)
        self.reload_nodes()

    def reload_nodes(self) -> None:
        self.nodes = configured_nodes(self.window_.settings)
        self.node_box.clear()
        self.node_box.addItems([n.name for n in self.nodes])
        self.send_button.setEnabled(bool(self.nodes))
        self.node_box.setVisible(len(self.nodes) > 1)
        self.update_report_state()

    def _report(self):
        dock = self.report_dock
        return dock, (dock.report if dock is not None else None)

    def update_report_state(self) -> None:
        """The report can be sent once it is Final, a node is configured and nothing is being sent."""
        _dock, report = self._report()
        busy = self._busy()
        ready = bool(self.nodes) and report is not None and report.is_final and not busy
        self.send_report_button.setEnabled(ready)
        self.send_report_action.setEnabled(ready)

    def _busy(self) -> bool:
        return self._task is not None and self._task.running

    def _finished(self, task: PacsTask) -> None:
        if task is not self._task:  # a newer send started once this one's outcome had shown
            return
        self._task = None  # its thread may live a moment longer, but its work is done
        self.send_button.setEnabled(bool(self.nodes))
        self.update_report_state()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.window_.status.showMessage(text, 15000)

    def connect_inference(self, service) -> None:
        """Remember ``service``'s results (its ``result(key, prediction)`` signal)."""
        self._service = service
        service.result.connect(self.remember)

    def remember(self, key: str, prediction: Any) -> None:
        self.predictions[key] = prediction
        self.predictions.move_to_end(key)
        while len(self.predictions) > KEEP:
            self.predictions.popitem(last=False)

    def send(self) -> None:
        if self._busy():
            return
        self.reload_nodes()
        view = getattr(self.window_, "active_view", None) or getattr(self.window_, "image_view", None)
        rad = getattr(view, "rad", None)  # the film in the active viewport (the outlined one in 1x2/2x2)
        if not self.nodes:
            self.message.setText("No PACS node is configured (PACS > PACS nodes).")
            return
        if rad is None or rad.header is None:
            self.message.setText("The image on screen is not a DICOM image: there is no study to send the result to.")
            return
        prediction = self.predictions.get(str(rad.path))
        if prediction is None:
            self.message.setText("No AI result for this image yet.")
            return
        node = self.nodes[max(0, self.node_box.currentIndex())]
        pacs = self.window_.settings["pacs"]
        header = rad.header

        def work(cancel, progress):
            from cxviewer.pacs.sr import result_from_prediction, write_sr

            sr_path = write_sr(result_from_prediction(prediction), header, _outbox() / f"sr-{uid_file_stem(header.SOPInstanceUID)}.dcm")
            _store_file(node, pacs, sr_path, "SR")
            return sr_path

        self.message.setText(f"Sending the AI result to {node.name}\N{HORIZONTAL ELLIPSIS}")
        self.send_button.setEnabled(False)
        self._task = PacsTask(work, self)
        self._task.succeeded.connect(lambda path: self.message.setText(
            f"AI result stored on {node.name} as a Structured Report ({Path(path).name})."))
        self._task.failed.connect(lambda text, _code: self.message.setText(f"Not sent: {text}"))
        self._task.finished.connect(lambda task=self._task: self._finished(task))
        self._task.start()
        self.update_report_state()

    def send_report(self) -> None:
        """The Final report on the pane, as an Encapsulated PDF, to the chosen node (off the GUI thread)."""
        if self._busy():
            return
        self.reload_nodes()
        dock, report = self._report()
        if not self.nodes:
            self._say("No PACS node is configured (PACS > PACS nodes).")
            return
        if report is None:
            self._say("No study is open: there is no report to send.")
            return
        if not report.is_final:
            self._say("Finalise the report first: only a signed report is sent to the PACS.")
            return
        anonymise = dock.anonymise_requested()
        header = getattr(dock.current_radiograph(), "header", None)
        if header is None and not anonymise:
            self._say("The image is not a DICOM film, so there is no patient or study to file the report under. "
                      "Tick \"Anonymise export\" to send it as a new anonymous study.")
            return
        node = self.nodes[max(0, self.node_box.currentIndex())]
        pacs = self.window_.settings["pacs"]
        outbox = _outbox()
        pdf_path = outbox / f"report-{uuid.uuid4().hex}.pdf"
        try:  # what the PDF shows is taken now; Qt paints it on the task's thread
            write_pdf = dock.pdf_writer(pdf_path, anonymise)
        except (OSError, ValueError) as exc:
            self._say(f"Report not sent: the PDF could not be made: {exc}")
            return
        report = copy.deepcopy(report)

        def work(cancel, progress):
            from cxviewer.imaging.dicom_file import read_header  # DICOM is read in imaging (layer contract)
            from cxviewer.pacs.report_document import write_report_document

            try:
                pdf = write_pdf().read_bytes()
            except (OSError, ValueError) as exc:
                raise PacsError(f"the PDF could not be made: {exc}") from None
            finally:
                pdf_path.unlink(missing_ok=True)
            path = write_report_document(outbox / f"report-{uuid.uuid4().hex}.dcm", pdf, report, header,
                                         anonymise=anonymise)
            try:
                _store_file(node, pacs, path, "report")
            except BaseException:
                path.unlink(missing_ok=True)  # kept only as the record of what was sent
                raise
            return path, str(read_header(path).PatientID)

        def done(answer) -> None:
            path, patient_id = answer
            if anonymise:
                self._say(f"Anonymised report stored on {node.name} as a new study (patient ID {patient_id}), "
                          f"an Encapsulated PDF ({Path(path).name}).")
            else:
                self._say(f"Report stored on {node.name} in the film's study, as an Encapsulated PDF in a new "
                          f"series ({Path(path).name}).")

        self._say(f"Sending the report to {node.name}\N{HORIZONTAL ELLIPSIS}")
        self._task = PacsTask(work, self)
        self._task.succeeded.connect(done)
        self._task.failed.connect(lambda text, _code: self._say(f"Report not sent: {text}"))
        self._task.finished.connect(lambda task=self._task: self._finished(task))
        self._task.start()
        self.send_button.setEnabled(False)
        self.update_report_state()


def install_send_ai_result(window, report_dock, inference=None, menu=None) -> AIResultSender:
    """Add the buttons under the report pane's exports (the AI result sends ``inference``'s results for
    the image on screen) and "Send report to PACS" to ``menu`` (the PACS menu)."""
    sender = AIResultSender(window, report_dock)
    report_dock.add_export_widget(sender.panel)
    if menu is not None:
        menu.addSeparator()
        menu.addAction(sender.send_report_action)
    window.addAction(sender.send_report_action)  # the shortcut works with the menu bar hidden
    window.actions_by_name["send_report_to_pacs"] = sender.send_report_action
    report_dock.statusChanged.connect(sender.update_report_state)
    window.pacs_sender = sender
    if inference is not None:
        sender.connect_inference(inference)
    return sender
