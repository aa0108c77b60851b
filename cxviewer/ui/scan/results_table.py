"""The batch scan results table: one row per file, sortable, filtered by status and by probability.

A double-click asks the main window to open the file (``openRequested``); "Export CSV..." writes
the rows shown, in the order shown, with the same columns as ``cxviewer scan``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cxviewer.scan.results import COLUMNS, PROBABILITY_COLUMNS, ScanResult

HEADERS = {
    "path": "File",
    "status": "Status",
    "error": "Reason / error",
    "label": "Leading class",
    "p_covid": "P(covid)",
    "p_pneumonia": "P(pneumonia)",
    "p_normal": "P(normal)",
    "ood_score": "OOD score",
    "model": "Model",
    "patient_id": "Patient ID",
    "study_uid": "Study UID",
    "sop_uid": "SOP Instance UID",
    "ms": "Time (ms)",
    "call": "Call",
    "confidence": "Confidence",
    "runtime": "Runtime",
    "device": "Device",
}
STATUS_TEXT = {"ok": "ok", "error": "error", "out_of_scope": "out of scope"}
NUMERIC = {"p_covid", "p_pneumonia", "p_normal", "ood_score", "ms", "confidence"}
SORT_ROLE = Qt.ItemDataRole.UserRole
MAX_COLUMN_PX = {"path": 360, "error": 520, "study_uid": 240, "sop_uid": 240, "model": 220}
FIT_SAMPLE_ROWS = 500
RESULT_ROLE = Qt.ItemDataRole.UserRole + 1


class ScanResultsModel(QAbstractTableModel):
    """Rows are :class:`ScanResult` objects, columns the scan's CSV contract."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[ScanResult] = []

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[COLUMNS[section]]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        result = self._rows[index.row()]
        name = COLUMNS[index.column()]
        value = getattr(result, name)
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return ""
            if name == "path":
                return Path(value).name
            if name == "status":
                return STATUS_TEXT[value]
            if name == "ms":
                return f"{value:.0f}"
            if name in NUMERIC:
                return f"{value:.3f}"
            return str(value)
        if role == SORT_ROLE:
            if name in NUMERIC:
                return -1.0 if value is None else float(value)  # empty cells sort before any number
            return str(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            if name == "path":
                return str(value)
            if name == "error" and value:
                return str(value)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and name in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == RESULT_ROLE:
            return result
        return None

    def add_result(self, result: ScanResult) -> None:
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self._rows.append(result)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()

    def result(self, row: int) -> ScanResult:
        return self._rows[row]

    def results(self) -> list[ScanResult]:
        return list(self._rows)


class ScanResultsFilter(QSortFilterProxyModel):
    """Keeps rows whose status is wanted and whose probability (of one class, or of any) reaches a minimum."""

    ANY_CLASS = ""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._status: str | None = None  # None = every status
        self._label = self.ANY_CLASS
        self._min_p = 0.0
        self.setSortRole(SORT_ROLE)

    def set_status(self, status: str | None) -> None:
        self._begin_filter_change()
        self._status = status or None
        self._end_filter_change()

    def set_min_probability(self, value: float, label: str = ANY_CLASS) -> None:
        self._begin_filter_change()
        self._min_p = float(value)
        self._label = label
        self._end_filter_change()

    # Qt >= 6.9 replaces invalidateFilter() by a begin/end pair around the change.
    def _begin_filter_change(self) -> None:
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()

    def _end_filter_change(self) -> None:
        if hasattr(self, "endFilterChange"):
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        result: ScanResult = self.sourceModel().result(source_row)
        if self._status is not None and result.status != self._status:
            return False
        if self._min_p > 0.0:
            probs = result.probabilities
            if self._label:
                p = probs.get(self._label)
            else:
                p = max(probs.values()) if probs else None
            if p is None or p < self._min_p:
                return False
        return True

    def visible_results(self) -> list[ScanResult]:
        return [self.data(self.index(r, 0), RESULT_ROLE) for r in range(self.rowCount())]


class ScanResultsView(QWidget):
    """Filter controls, the table and an export button."""

    openRequested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = ScanResultsModel(self)
        self.proxy = ScanResultsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.protected_roots: list[Path] = []  # scanned folders: export is refused inside them

        self.status_box = QComboBox()
        self.status_box.addItem("All statuses", None)
        for status, text in STATUS_TEXT.items():
            self.status_box.addItem(text, status)
        self.class_box = QComboBox()
        self.class_box.addItem("any class", ScanResultsFilter.ANY_CLASS)
        for label in PROBABILITY_COLUMNS:
            self.class_box.addItem(label, label)
        self.min_p = QDoubleSpinBox()
        self.min_p.setRange(0.0, 1.0)
        self.min_p.setSingleStep(0.05)
        self.min_p.setDecimals(2)
        self.min_p.setToolTip("Show only rows whose probability reaches this value (0 = no filter)")
        self.count_label = QLabel()
        self.export_button = QPushButton("Export CSV...")
        self.export_button.setToolTip("Write the rows shown (current filter and order) to a CSV file")

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)  # scan order until a header is clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setResizeContentsPrecision(FIT_SAMPLE_ROWS)
        self.table.verticalHeader().setVisible(False)
        self._fitted_rows = 0

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Status:"))
        controls.addWidget(self.status_box)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Probability of"))
        controls.addWidget(self.class_box)
        controls.addWidget(QLabel("at least"))
        controls.addWidget(self.min_p)
        controls.addStretch(1)
        controls.addWidget(self.count_label)
        controls.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.table)

        self.status_box.currentIndexChanged.connect(self._filters_changed)
        self.class_box.currentIndexChanged.connect(self._filters_changed)
        self.min_p.valueChanged.connect(self._filters_changed)
        self.table.doubleClicked.connect(self._open_row)
        self.export_button.clicked.connect(self._choose_export)
        for sig in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset, self.proxy.layoutChanged):
            sig.connect(self._update_count)
        self._update_count()

    def add_result(self, result: ScanResult) -> None:
        self.model.add_result(result)
        n = self.model.rowCount()
        if n >= 2 * self._fitted_rows or n in (1, 10):  # the first rows, then as the table doubles
            self.fit_columns()

    def fit_columns(self) -> None:
        """Columns as wide as their contents (headers included), File and Reason up to a cap: a long
        path or error message shows in full on hover. Measured over the first FIT_SAMPLE_ROWS rows."""
        self._fitted_rows = max(self.model.rowCount(), 1)
        header = self.table.horizontalHeader()
        for column, name in enumerate(COLUMNS):
            self.table.resizeColumnToContents(column)
            cap = MAX_COLUMN_PX.get(name)
            if cap is not None and header.sectionSize(column) > cap:
                header.resizeSection(column, cap)

    def clear(self) -> None:
        self.model.clear()

    def _filters_changed(self, *_):
        self.proxy.set_status(self.status_box.currentData())
        self.proxy.set_min_probability(self.min_p.value(), self.class_box.currentData())
        self._update_count()

    def _update_count(self, *_):
        self.count_label.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} shown")

    def _open_row(self, index: QModelIndex) -> None:
        result = self.proxy.data(self.proxy.index(index.row(), 0), RESULT_ROLE)
        if result is not None:
            self.openRequested.emit(result.path)

    def export_csv(self, path: str | Path) -> int:
        """Write the rows shown to ``path``; returns how many. Refuses a file inside a scanned folder."""
        from cxviewer.files.privacy import holds_patient_data
        from cxviewer.scan.guards import check_output
        from cxviewer.scan.results import CsvResultWriter

        target = check_output(path, self.protected_roots) if self.protected_roots else Path(path)
        rows = self.proxy.visible_results()
        writer = CsvResultWriter(target, private=holds_patient_data())  # patient IDs and paths: owner only
        try:
            for r in rows:
                writer.write(r)
        finally:
            writer.close()
        return len(rows)

    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export scan results", "scan-results.csv", "CSV files (*.csv)")
        if not path:
            return
        from cxviewer.scan.guards import ScanSetupError

        try:
            n = self.export_csv(path)
        except (ScanSetupError, OSError) as exc:
            QMessageBox.warning(self, "Export scan results", str(exc))
            return
        QMessageBox.information(self, "Export scan results", f"{n} row(s) written to {path}")
