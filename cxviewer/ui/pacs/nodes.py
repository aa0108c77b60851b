"""PACS nodes kept in the settings, and the dialog that edits them (and our own AE titles)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from cxviewer.pacs.errors import PacsError
from cxviewer.pacs.nodes import Node, parse_address
from cxviewer.ui.pacs.task import PacsTask

log = logging.getLogger(__name__)


def node_from_entry(entry: dict[str, Any]) -> Node:
    """A settings entry as a Node; raises BadAddress for a bad address."""
    node = parse_address(str(entry.get("address", "")))
    node.name = str(entry.get("name", "")) or node.describe()
    node.tls = bool(entry.get("tls")) and not node.is_web
    node.ca_file = str(entry.get("ca_file", ""))
    node.cert_file = str(entry.get("cert_file", "")) if node.tls else ""
    node.key_file = str(entry.get("key_file", "")) if node.tls else ""
    node.username = str(entry.get("username", "")) or node.username
    node.password = str(entry.get("password", "")) or node.password
    node.token = str(entry.get("token", ""))
    return node


def configured_nodes(settings) -> list[Node]:
    nodes = []
    for entry in settings["pacs"].get("nodes", []):
        try:
            nodes.append(node_from_entry(entry))
        except PacsError as exc:  # a hand-edited settings file: skip the entry, say so (no credentials)
            log.warning("settings: PACS node %r ignored: %s", entry.get("name", ""), exc)
    return nodes


class PacsNodesDialog(QDialog):
    """Add, change, test and remove nodes; set our AE titles and the listener's port."""

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.setObjectName("pacsNodesDialog")
        self.setWindowTitle("PACS nodes")
        self.settings = settings
        pacs = settings["pacs"]
        self.entries: list[dict[str, Any]] = [dict(e) for e in pacs.get("nodes", [])]
        self._task: PacsTask | None = None

        self.list = QListWidget(self)
        self.list.setObjectName("pacsNodeList")
        self.list.currentRowChanged.connect(self._show_entry)
        self.list.setMinimumWidth(180)
        self.resize(640, 0)
        self.name = QLineEdit(self)
        self.address = QLineEdit(self)
        self.address.setPlaceholderText("AET@host:port  or  https://host:port/dicom-web")
        self.tls = QCheckBox("TLS (DIMSE)", self)
        self.ca_file = QLineEdit(self)
        self.ca_file.setPlaceholderText("CA bundle (empty: the system's)")
        self.cert_file = QLineEdit(self)
        self.cert_file.setPlaceholderText("our certificate, PEM (only for peers that require one)")
        self.key_file = QLineEdit(self)
        self.key_file.setPlaceholderText("its private key, PEM (empty: inside the certificate file)")
        self.username = QLineEdit(self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Address", self.address)
        form.addRow("", self.tls)
        form.addRow("CA file", self.ca_file)
        form.addRow("Client certificate", self.cert_file)
        form.addRow("Client key", self.key_file)
        form.addRow("User (DICOMweb)", self.username)
        form.addRow("Password", self.password)
        buttons = QHBoxLayout()
        for text, slot, name in (("Add", self._add, "pacsAdd"), ("Save changes", self._save_entry, "pacsSave"),
                                 ("Remove", self._remove, "pacsRemove"), ("Test", self._test, "pacsTest")):
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        self.message = QLabel("", self)
        self.message.setObjectName("pacsNodeMessage")
        self.message.setWordWrap(True)

        ours = QGroupBox("This station", self)
        self.calling_ae = QLineEdit(pacs.get("calling_ae", "CXVIEWER"), self)
        self.listener_ae = QLineEdit(pacs.get("listener_ae", "CXVIEWER"), self)
        self.listener_port = QSpinBox(self)
        self.listener_port.setRange(1, 65535)
        self.listener_port.setValue(int(pacs.get("listener_port", 11112)))
        self.accept_any = QCheckBox("Listener accepts any calling AE title (not only the nodes above)", self)
        self.accept_any.setChecked(bool(pacs.get("listener_accept_any", False)))
        self.listener_cert = QLineEdit(str(pacs.get("listener_tls_cert", "")), self)
        self.listener_cert.setPlaceholderText("PEM certificate: the listener uses TLS (empty: plain DIMSE)")
        self.listener_key = QLineEdit(str(pacs.get("listener_tls_key", "")), self)
        self.listener_key.setPlaceholderText("its private key, PEM (empty: inside the certificate file)")
        self.listener_ca = QLineEdit(str(pacs.get("listener_ca_file", "")), self)
        self.listener_ca.setPlaceholderText("CA that signs the senders' certificates (empty: none required)")
        ours_form = QFormLayout(ours)
        ours_form.addRow("Calling AE title", self.calling_ae)
        ours_form.addRow("Listener AE title", self.listener_ae)
        ours_form.addRow("Listener port", self.listener_port)
        ours_form.addRow("", self.accept_any)
        ours_form.addRow("Listener TLS certificate", self.listener_cert)
        ours_form.addRow("Listener TLS key", self.listener_key)
        ours_form.addRow("Senders' CA", self.listener_ca)

        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        box.accepted.connect(self._accept)
        box.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.list, 1)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(buttons)
        right.addWidget(self.message)
        top.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(ours)
        layout.addWidget(box)
        self._refresh()

    def _refresh(self) -> None:
        row = self.list.currentRow()
        self.list.clear()
        for e in self.entries:
            self.list.addItem(e.get("name") or e.get("address"))
            self.list.item(self.list.count() - 1).setToolTip(e.get("address", ""))
        if self.entries:
            self.list.setCurrentRow(min(max(row, 0), len(self.entries) - 1))

    def _show_entry(self, row: int) -> None:
        if not 0 <= row < len(self.entries):
            return
        e = self.entries[row]
        self.name.setText(e.get("name", ""))
        self.address.setText(e.get("address", ""))
        self.tls.setChecked(bool(e.get("tls")))
        self.ca_file.setText(e.get("ca_file", ""))
        self.cert_file.setText(e.get("cert_file", ""))
        self.key_file.setText(e.get("key_file", ""))
        self.username.setText(e.get("username", ""))
        self.password.setText(e.get("password", ""))

    def _form_entry(self) -> dict[str, Any] | None:
        entry = {"name": self.name.text().strip(), "address": self.address.text().strip(), "tls": self.tls.isChecked(),
                 "ca_file": self.ca_file.text().strip(), "cert_file": self.cert_file.text().strip(),
                 "key_file": self.key_file.text().strip(), "username": self.username.text().strip(),
                 "password": self.password.text()}
        try:
            node = node_from_entry(entry)
        except PacsError as exc:
            self.message.setText(str(exc))
            return None
        entry["name"] = entry["name"] or node.describe()
        return entry

    def _add(self) -> None:
        entry = self._form_entry()
        if entry is not None:
            self.entries.append(entry)
            self._refresh()
            self.list.setCurrentRow(len(self.entries) - 1)
            self.message.setText(f"Added {entry['name']}.")

    def _save_entry(self) -> None:
        row = self.list.currentRow()
        entry = self._form_entry()
        if entry is not None and 0 <= row < len(self.entries):
            self.entries[row] = entry
            self._refresh()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.entries):
            del self.entries[row]
            self._refresh()

    def _test(self) -> None:
        """C-ECHO (or a QIDO-RS request) off the GUI thread."""
        entry = self._form_entry()
        if entry is None or (self._task is not None and self._task.running):
            return
        node = node_from_entry(entry)
        calling = self.calling_ae.text().strip() or "CXVIEWER"
        self.message.setText(f"Testing {node.describe()}\N{HORIZONTAL ELLIPSIS}")

        def work(cancel, progress):
            from cxviewer.pacs.client import open_client

            return open_client(node, calling_ae=calling, timeout=float(self.settings["pacs"].get("timeout", 10))).echo()

        self._task = PacsTask(work, self)
        self._task.succeeded.connect(lambda ms: self.message.setText(f"{node.describe()} answers ({ms:.0f} ms)."))
        self._task.failed.connect(lambda text, _code: self.message.setText(text))
        self._task.start()

    def _accept(self) -> None:
        from cxviewer.pacs.nodes import check_ae_title

        try:
            calling = check_ae_title(self.calling_ae.text())
            listener = check_ae_title(self.listener_ae.text())
        except PacsError as exc:
            self.message.setText(str(exc))
            return
        pacs = dict(self.settings["pacs"])
        pacs.update(nodes=self.entries, calling_ae=calling, listener_ae=listener,
                    listener_port=self.listener_port.value(), listener_accept_any=self.accept_any.isChecked(),
                    listener_tls_cert=self.listener_cert.text().strip(), listener_tls_key=self.listener_key.text().strip(),
                    listener_ca_file=self.listener_ca.text().strip())
        self.settings["pacs"] = pacs
        self.settings.save()
        self.accept()
