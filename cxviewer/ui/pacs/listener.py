"""The listener toggle in the status bar: receive studies a PACS sends (C-STORE) and open them.

Received objects go to the app's data folder (``pacs/received/<study>/``, owner-only). Only the AE
titles of the configured DIMSE nodes may send, unless the settings say to accept any. Each study
opens in the study browser a moment after its last object arrived.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QToolButton

from cxviewer.pacs.errors import PacsError
from cxviewer.ui.background_task import BackgroundTask
from cxviewer.ui.pacs.nodes import configured_nodes

log = logging.getLogger(__name__)
SETTLE_MS = 1000  # open a study this long after its last object arrived


def received_folder() -> Path:
    from cxviewer.pacs.storage import default_folder
    from cxviewer.paths import private_dir

    return private_dir(default_folder() / "received")


class ListenerToggle(QToolButton):
    received = Signal(object, str, str)  # path, calling AE title, StudyInstanceUID (from the listener's thread)
    studyReceived = Signal(object)  # Path of a study folder, after it settled

    def __init__(self, window):
        super().__init__(window)
        self.setObjectName("pacsListenerToggle")
        self.window_ = window
        self.listener = None
        self._stopping: BackgroundTask | None = None  # a listener being stopped (its server polls every 0.5 s)
        self._pending: dict[Path, int] = {}
        self.action = QAction("Receive from PACS (listener)", self)
        self.action.setCheckable(True)
        self.action.toggled.connect(self.set_listening)
        self.setDefaultAction(self.action)
        self.setAutoRaise(True)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._open_settled)
        self.received.connect(self._on_received)
        self.studyReceived.connect(lambda folder: window.open_paths([folder], remember=False))
        self._show_state()

    def _show_state(self, note: str = "") -> None:
        if self.listener is not None:
            text = f"PACS: receiving as {self.listener.ae_title}:{self.listener.port}" + (
                " (TLS)" if self.listener.ssl_context is not None else "")
            tip = f"Receiving DICOM objects as {self.listener.ae_title} on port {self.listener.port}; click to stop."
        else:
            text, tip = "PACS listener off", "Click to receive studies a PACS sends (C-STORE)."
        self.action.setText(text)
        self.setToolTip(tip + (f"\n{note}" if note else ""))

    def set_listening(self, on: bool) -> None:
        if on and self.listener is None:
            self._start()
        elif not on and self.listener is not None:
            listener, self.listener = self.listener, None
            # pynetdicom's server notices a stop within half a second: wait for that off the GUI thread
            self._stopping = BackgroundTask(lambda cancel, progress: listener.stop(), name="pacs-listener-stop")
            self._stopping.start()
            self._show_state()
            self.window_.status.showMessage(f"Listener stopped ({listener.received} received, {listener.refused} refused)", 5000)

    def _start(self) -> None:
        from cxviewer.pacs.listener import Listener, listener_ssl_context
        from cxviewer.pacs.storage import ObjectStore

        if self._stopping is not None:  # switched on again at once: the old server must have let go of the port
            self._stopping.wait(1.0)
            self._stopping = None
        pacs = self.window_.settings["pacs"]
        allowed = {n.ae_title for n in configured_nodes(self.window_.settings) if not n.is_web}
        accept_any = bool(pacs.get("listener_accept_any"))
        try:
            if not allowed and not accept_any:
                raise PacsError("No DIMSE node is configured (PACS > PACS nodes): nobody would be allowed to send.")
            cert = str(pacs.get("listener_tls_cert", "") or "")
            tls = listener_ssl_context(cert, str(pacs.get("listener_tls_key", "") or ""),
                                       str(pacs.get("listener_ca_file", "") or "")) if cert else None
            listener = Listener(ObjectStore(received_folder()), ae_title=pacs.get("listener_ae", "CXVIEWER"),
                                port=int(pacs.get("listener_port", 11112)), allowed=None if accept_any else allowed,
                                on_received=lambda p, a, s: self.received.emit(p, a, s), ssl_context=tls)
            listener.start()
        except PacsError as exc:
            self.action.blockSignals(True)
            self.action.setChecked(False)
            self.action.blockSignals(False)
            self._show_state(str(exc))
            self.window_.status.showMessage(f"Listener not started: {exc}", 8000)
            return
        self.listener = listener
        self._show_state()
        self.window_.status.showMessage(f"Listening as {listener.ae_title} on port {listener.port}", 5000)

    def _on_received(self, path: Path, calling: str, study_uid: str) -> None:
        folder = Path(path).parent
        self._pending[folder] = self._pending.get(folder, 0) + 1
        self.window_.status.showMessage(f"Received {Path(path).name} from {calling}", 3000)
        self._settle.start()

    def _open_settled(self) -> None:
        pending, self._pending = self._pending, {}
        for folder in pending:
            self.studyReceived.emit(folder)

    def shutdown(self) -> None:
        self.set_listening(False)
