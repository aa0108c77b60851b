"""Query/Retrieve dialog: search a PACS node, see its studies, retrieve them into the study browser.

Searches and retrievals run off the GUI thread (``PacsTask``); a retrieval shows its progress and
can be cancelled (what that transfer wrote is removed). Retrieved files go to the app's data folder
(``pacs/retrieved/<study>/``, owner-only) and open in the study browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from cxviewer.imaging.dicom_values import format_date, format_person_name, shown
from cxviewer.pacs.errors import PacsError
from cxviewer.ui.pacs.nodes import PacsNodesDialog, configured_nodes
from cxviewer.ui.pacs.task import PacsTask

if TYPE_CHECKING:
    from cxviewer.pacs.query import StudyQuery, StudyResult

COLUMNS = ("Patient name", "Patient ID", "Study date", "Description", "Modalities", "Images", "Accession")


def retrieve_folder() -> Path:
    from cxviewer.pacs.storage import default_folder
    from cxviewer.paths import private_dir

    return private_dir(default_folder() / "retrieved")


class QueryRetrieveDialog(QDialog):
    studyRetrieved = Signal(object)  # Path of the study's folder

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.setObjectName("queryRetrieveDialog")
        self.setWindowTitle("Query/Retrieve")
        self.resize(980, 560)
        self.settings = settings
        self.results: list[StudyResult] = []
        self._task: PacsTask | None = None

        self.node_box = QComboBox(self)
        self.node_box.setObjectName("pacsNodeBox")
        self.node_box.setMinimumWidth(320)
        nodes_button = QPushButton("Nodes\N{HORIZONTAL ELLIPSIS}", self)
        nodes_button.clicked.connect(self.edit_nodes)
        self.patient_id = QLineEdit(self)
        self.patient_name = QLineEdit(self)
        self.patient_name.setPlaceholderText("Family^Given, * and ? allowed")
        self.date_from = QLineEdit(self)
        self.date_to = QLineEdit(self)
        for edit in (self.date_from, self.date_to):
            edit.setPlaceholderText("YYYYMMDD")
            edit.setMaxLength(8)
        self.modality = QComboBox(self)
        self.modality.setEditable(True)
        self.modality.addItems(["", "CR", "DX", "SR"])
        self.accession = QLineEdit(self)
        self.search_button = QPushButton("Search", self)
        self.search_button.setMinimumWidth(120)
        self.search_button.setObjectName("pacsSearch")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)

        node_row = QHBoxLayout()
        node_row.addWidget(QLabel("PACS", self))
        node_row.addWidget(self.node_box, 1)
        node_row.addWidget(nodes_button)
        form = QFormLayout()
        form.addRow("Patient ID", self.patient_id)
        form.addRow("Patient name", self.patient_name)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("to", self))
        dates.addWidget(self.date_to)
        form.addRow("Study date", dates)
        form2 = QFormLayout()
        form2.addRow("Modality", self.modality)
        form2.addRow("Accession", self.accession)
        search_line = QHBoxLayout()
        search_line.addStretch(1)
        search_line.addWidget(self.search_button)
        form2.addRow("", search_line)
        search_row = QHBoxLayout()
        search_row.addLayout(form, 3)
        search_row.addSpacing(16)
        search_row.addLayout(form2, 2)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("pacsResults")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _i: self.retrieve())

        self.progress = QProgressBar(self)
        self.progress.setObjectName("pacsProgress")
        self.progress.hide()
        self.status = QLabel("", self)
        self.status.setObjectName("pacsStatus")
        self.status.setWordWrap(True)
        self.retrieve_button = QPushButton("Retrieve and open", self)
        self.retrieve_button.setObjectName("pacsRetrieve")
        self.retrieve_button.clicked.connect(self.retrieve)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("pacsCancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        self.progress.setMinimumWidth(260)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress)
        bottom.addStretch(1)
        bottom.addWidget(self.retrieve_button)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(node_row)
        layout.addLayout(search_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(bottom)
        self.reload_nodes()

    # -- nodes --------------------------------------------------------------------------------------
    def reload_nodes(self) -> None:
        self.nodes = configured_nodes(self.settings)
        current = self.node_box.currentText()
        self.node_box.clear()
        for node in self.nodes:
            self.node_box.addItem(f"{node.name}  \N{EM DASH}  {node.describe()}" if node.name != node.describe() else node.name)
        if current:
            self.node_box.setCurrentIndex(max(0, self.node_box.findText(current)))
        has = bool(self.nodes)
        self.search_button.setEnabled(has)
        self.retrieve_button.setEnabled(has)
        if not has:
            self.status.setText("No PACS node is configured: add one with Nodes\N{HORIZONTAL ELLIPSIS} "
                                "(CXViewer uses no network until you do).")

    def edit_nodes(self) -> None:
        if PacsNodesDialog(self.settings, self).exec():
            self.reload_nodes()

    def _client(self):
        from cxviewer.pacs.client import open_client

        node = self.nodes[self.node_box.currentIndex()]
        pacs = self.settings["pacs"]
        return open_client(node, calling_ae=pacs.get("calling_ae", "CXVIEWER"), timeout=float(pacs.get("timeout", 10)))

    # -- search -------------------------------------------------------------------------------------
    def query(self) -> StudyQuery:
        from cxviewer.pacs.query import StudyQuery

        start, end = self.date_from.text().strip(), self.date_to.text().strip()
        dates = f"{start}-{end}" if end else start
        return StudyQuery(patient_id=self.patient_id.text().strip(), patient_name=self.patient_name.text().strip(),
                          study_date=dates, modality=self.modality.currentText().strip().upper(),
                          accession=self.accession.text().strip())

    def _busy(self, busy: bool, cancellable: bool = False) -> None:
        self.search_button.setEnabled(not busy and bool(self.nodes))
        self.retrieve_button.setEnabled(not busy and bool(self.nodes))
        self.cancel_button.setEnabled(busy and cancellable)

    def _done_with(self, task: PacsTask):
        """What frees the buttons when ``task`` has ended, unless a newer task has started since (one can start as soon
        as ``task``'s outcome has shown, before its ``finished`` arrives)."""
        return lambda: task is self._task and self._busy(False)

    def search(self) -> None:
        if self._task is not None and self._task.running or not self.nodes:
            return
        try:
            query = self.query().validate()
            client = self._client()
        except PacsError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText(f"Searching {client.node.describe()}\N{HORIZONTAL ELLIPSIS}")
        self._busy(True)
        self._task = PacsTask(lambda cancel, progress: client.find(query), self)
        self._task.succeeded.connect(self.show_results)
        self._task.failed.connect(self._failed)
        self._task.finished.connect(self._done_with(self._task))
        self._task.start()

    def show_results(self, results: list[StudyResult]) -> None:
        self.results = list(results)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.results))
        for row, r in enumerate(self.results):
            # the same rules as the study browser and the corner text; identifiers escaped (a peer's text)
            values = (shown(format_person_name(r.patient_name)), shown(r.patient_id), format_date(r.study_date),
                      shown(r.description), ", ".join(r.modalities), "" if r.instances is None else str(r.instances),
                      shown(r.accession))
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, row)
                item.setToolTip(f"Study Instance UID {r.study_uid}")
                if col == 5:
                    item.setData(Qt.ItemDataRole.DisplayRole, r.instances if r.instances is not None else "")
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        self.table.sortItems(2, Qt.SortOrder.DescendingOrder)  # newest study first, as PACS consoles list them
        self.table.resizeColumnsToContents()
        if self.results:
            self.table.selectRow(0)
        self.status.setText(f"{len(self.results)} stud{'y' if len(self.results) == 1 else 'ies'} found.")

    def _failed(self, message: str, _code: int) -> None:
        self.progress.hide()
        self.status.setText(message)

    # -- retrieve -----------------------------------------------------------------------------------
    def selected(self) -> list[StudyResult]:
        rows = sorted({self.table.item(i.row(), 0).data(Qt.ItemDataRole.UserRole) for i in self.table.selectedIndexes()})
        return [self.results[r] for r in rows]

    def retrieve(self) -> None:
        if self._task is not None and self._task.running or not self.nodes:
            return
        studies = self.selected()
        if not studies:
            self.status.setText("Select one or more studies first.")
            return
        client = self._client()
        folder = retrieve_folder()

        def work(cancel, progress):
            from cxviewer.pacs.storage import ObjectStore

            done = []
            for study in studies:
                store = ObjectStore(folder)
                client.get(study.study_uid, store, progress=progress, cancel=cancel, patient_id=study.patient_id)
                done.append(store.path_for(study.study_uid, "x").parent)
            return done

        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText(f"Retrieving {len(studies)} stud{'y' if len(studies) == 1 else 'ies'}\N{HORIZONTAL ELLIPSIS}")
        self._busy(True, cancellable=True)
        self._task = PacsTask(work, self)
        self._task.progressed.connect(self._progress)
        self._task.succeeded.connect(self._retrieved)
        self._task.failed.connect(self._failed)
        self._task.finished.connect(self._done_with(self._task))
        self._task.start()

    def _progress(self, done: int, total: int) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.status.setText(f"Retrieved {done}{f' of {total}' if total else ''} images\N{HORIZONTAL ELLIPSIS}")

    def _retrieved(self, folders: list[Path]) -> None:
        self.progress.hide()
        self.status.setText(f"Retrieved {len(folders)} stud{'y' if len(folders) == 1 else 'ies'}; opened in the study browser.")
        for folder in folders:
            self.studyRetrieved.emit(folder)

    def cancel(self) -> None:
        if self._task is not None and self._task.running:
            self._task.cancel()
            self.status.setText("Cancelling\N{HORIZONTAL ELLIPSIS}")
            self.cancel_button.setEnabled(False)

    def closeEvent(self, event) -> None:
        self.cancel()
        super().closeEvent(event)


def install_pacs(window, report_dock=None, inference=None) -> None:
    """PACS menu (Query/Retrieve..., Nodes...), the listener toggle in the status bar and, with a
    ``report_dock``, "Send AI result to PACS" (results from ``inference``) and "Send report to PACS"
    in it, the latter also in the menu."""
    from cxviewer.ui.pacs.listener import ListenerToggle

    menu = window.menuBar().addMenu("&PACS")
    qr = QAction("&Query/Retrieve\N{HORIZONTAL ELLIPSIS}", window)
    qr.setShortcut(QKeySequence("Ctrl+Shift+Q"))
    qr.setStatusTip("Search a PACS and retrieve studies into the study browser")

    def show_qr():
        dialog = getattr(window, "_query_retrieve_dialog", None)
        if dialog is None:
            dialog = QueryRetrieveDialog(window.settings, window)
            dialog.studyRetrieved.connect(lambda folder: window.open_paths([folder], remember=False))
            window._query_retrieve_dialog = dialog
        dialog.reload_nodes()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    qr.triggered.connect(show_qr)
    menu.addAction(qr)
    window.addAction(qr)
    nodes = QAction("PACS &nodes\N{HORIZONTAL ELLIPSIS}", window)
    def edit_nodes():
        if PacsNodesDialog(window.settings, window).exec() and sender is not None:
            sender.reload_nodes()

    nodes.triggered.connect(edit_nodes)
    menu.addAction(nodes)
    toggle = ListenerToggle(window)
    window.status.addPermanentWidget(toggle)
    menu.addSeparator()
    menu.addAction(toggle.action)
    window.pacs_listener = toggle
    window.add_close_hook(toggle.shutdown)
    if isinstance(getattr(window, "actions_by_name", None), dict):
        window.actions_by_name["query_retrieve"] = qr
    from cxviewer.ui.pacs.send import install_send_ai_result

    # "Send AI result to PACS" and "Send report to PACS" in the report pane (the latter also in the menu)
    sender = install_send_ai_result(window, report_dock, inference, menu) if report_dock is not None else None
