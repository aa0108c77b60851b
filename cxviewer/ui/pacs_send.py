""""Send AI result to PACS" in the report pane: the model's result for the image on screen as a
DICOM SR (``cxviewer.pacs.sr``), stored on a configured node off the GUI thread.

The SR is written first to the app's data folder (``pacs/outbox/``, owner-only), never beside the
reader's files, then sent with C-STORE (or STOW-RS for a DICOMweb node).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cxviewer.pacs.errors import PacsError
from cxviewer.ui.pacs_nodes import configured_nodes
from cxviewer.ui.pacs_task import PacsTask

KEEP = 32  # predictions remembered (one per image path)


class AIResultSender(QObject):
    """Remembers the model's result per image and sends the one on screen as an SR."""

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
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
        self.message = QLabel("", self.panel)
        self.message.setObjectName("pacsSendMessage")
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.send_button)
        row.addWidget(self.node_box, 1)
        layout = QVBoxLayout(self.panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.message)
        self.reload_nodes()

    def reload_nodes(self) -> None:
        self.nodes = configured_nodes(self.window_.settings)
        self.node_box.clear()
        self.node_box.addItems([n.name for n in self.nodes])
        self.send_button.setEnabled(bool(self.nodes))
        self.node_box.setVisible(len(self.nodes) > 1)

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
        if self._task is not None and self._task.running:
            return
        self.reload_nodes()
        rad = getattr(getattr(self.window_, "image_view", None), "rad", None)
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
            from cxviewer.imaging.dicom_file import read_dataset, read_header
            from cxviewer.pacs.client import open_client
            from cxviewer.pacs.sr import result_from_prediction, write_sr
            from cxviewer.pacs.storage import default_folder, private_dir

            outbox = private_dir(default_folder() / "outbox")
            sr_path = write_sr(result_from_prediction(prediction), header, outbox / f"sr-{header.SOPInstanceUID}.dcm")
            client = open_client(node, calling_ae=pacs.get("calling_ae", "CXVIEWER"), timeout=float(pacs.get("timeout", 10)))
            files = [(sr_path, read_header(sr_path))]
            result = client.send(files, read=read_dataset) if node.is_web else client.send(files)
            if result.failed:
                raise PacsError("; ".join(result.messages or ["the PACS refused the SR"]))
            return sr_path

        self.message.setText(f"Sending the AI result to {node.name}\N{HORIZONTAL ELLIPSIS}")
        self.send_button.setEnabled(False)
        self._task = PacsTask(work, self)
        self._task.succeeded.connect(lambda path: self.message.setText(
            f"AI result stored on {node.name} as a Structured Report ({Path(path).name})."))
        self._task.failed.connect(lambda text, _code: self.message.setText(f"Not sent: {text}"))
        self._task.finished.connect(lambda: self.send_button.setEnabled(bool(self.nodes)))
        self._task.start()


def install_send_ai_result(window, report_dock, inference=None) -> AIResultSender:
    """Add the button under the report pane's exports; it sends ``inference``'s results for the image on screen."""
    sender = AIResultSender(window)
    report_dock.add_export_widget(sender.panel)
    window.pacs_sender = sender
    if inference is not None:
        sender.connect_inference(inference)
    return sender
