"""The batch scan results table: one row per file, sortable, filtered by status and by probability.

A double-click asks the main window to open the file (``openRequested``); "Export CSV..." writes
the rows shown, in the order shown, with the same columns as ``cxviewer scan``.

Tens of thousands of rows never stall the GUI thread: the model sorts its own Python list (a key per
row, computed once), the filter reads facts computed once per row and is applied once per change (the
probability box only when its arrows rest), the export writes on a worker thread and the columns are
sized from a sample of rows.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
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
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cxviewer.scan.results import COLUMNS, PROBABILITY_COLUMNS, ScanResult
from cxviewer.ui.background_task import BackgroundTask

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
FIT_SAMPLE_ROWS = 200  # rows measured to size a column (and those on screen, and as many spread over the rest)
FILTER_DEBOUNCE_MS = 150  # the probability box filters once its arrows (or keys) rest this long
# the export's worker thread pauses this long after every EXPORT_WORK_S of writing: painting the table calls
# Python for every cell, and a thread that keeps the interpreter lock busy would make each frame wait for it
EXPORT_WORK_S, EXPORT_PAUSE_S = 0.002, 0.001
RESULT_ROLE = Qt.ItemDataRole.UserRole + 1


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_SORT = int(SORT_ROLE)
_RESULT = int(RESULT_ROLE)
_ROLES = frozenset((_DISPLAY, _TOOLTIP, _ALIGNMENT, _SORT, _RESULT))  # any other role: None at once
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
# the probability the filter looks at, by class: "" (any class) is the highest one
_FILTER_LABELS = {"": 0, **{label: i + 1 for i, label in enumerate(PROBABILITY_COLUMNS)}}
_PROB_NAMES = tuple(PROBABILITY_COLUMNS.values())


def display_text(result: ScanResult, name: str) -> str:
    """A cell's text: the file's name (the whole path on hover), numbers rounded, nothing for unknown."""
    value = getattr(result, name)
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


def sort_key(result: ScanResult, name: str):
    """What a column sorts by: numbers as numbers (an empty cell as -1, before any number), the rest as text."""
    value = getattr(result, name)
    if name in NUMERIC:
        return -1.0 if value is None else float(value)
    return str(value)


def _filter_facts(result: ScanResult) -> tuple:
    """What the filter needs of a row, computed once: its status, then the highest probability and each class's."""
    probs = tuple(getattr(result, name) for name in _PROB_NAMES)
    known = [p for p in probs if p is not None]
    return (result.status, max(known) if known else None, *probs)


class ScanResultsModel(QAbstractTableModel):
    """Rows are :class:`ScanResult` objects, columns the scan's CSV contract.

    The model sorts itself (``sort``): each row's key for a column is computed once, the rows are ordered with
    a stable ``list.sort`` of the current order (ties keep the previous sort's order, as with Qt's proxy) and the
    move is announced as a layout change. While a column is sorted, a new row is inserted where it belongs (after
    its ties). Sorting through the proxy asked Python for a key N log N times (seconds for a night's scan)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[ScanResult] = []  # in the order shown: the sort's, else the scan's
        self._seq: list[int] = []  # each row's arrival number, in the order shown
        self._facts: list[tuple] = []  # each row's filter facts (see _filter_facts), in the order shown
        self._arrived: list[ScanResult] = []  # in scan order (a row's arrival number is its place here)
        self._arrived_facts: list[tuple] = []
        self._keys: dict[int, list] = {}  # column -> sort key by arrival number, filled as needed
        self._sort_column = -1
        self._descending = False

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == _DISPLAY and orientation == Qt.Orientation.Horizontal:
            return HEADERS[COLUMNS[section]]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        result = self._rows[index.row()]
        if role == _RESULT:
            return result
        name = COLUMNS[index.column()]
        if role == _DISPLAY:
            return display_text(result, name)
        if role == _SORT:
            return sort_key(result, name)
        value = getattr(result, name)
        if role == _TOOLTIP:
            if name == "path":
                return str(value)
            if name == "error" and value:
                return str(value)
            return None
        if role == _ALIGNMENT and name in NUMERIC:
            return _RIGHT
        return None

    def add_result(self, result: ScanResult) -> None:
        seq = len(self._arrived)
        facts = _filter_facts(result)
        self._arrived.append(result)
        self._arrived_facts.append(facts)
        row = len(self._rows)
        if self._sort_column >= 0:
            keys = self._column_keys(self._sort_column)
            row = self._insertion_row(keys[seq], keys)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, result)
        self._seq.insert(row, seq)
        self._facts.insert(row, facts)
        self.endInsertRows()

    def _insertion_row(self, key, keys: list) -> int:
        """Where a new row goes in the sorted rows: after every row with an equal key (they came first)."""
        seq = self._seq
        if not self._descending:
            return bisect_right(seq, key, key=keys.__getitem__)
        lo, hi = 0, len(seq)
        while lo < hi:
            mid = (lo + hi) // 2
            if key > keys[seq[mid]]:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _column_keys(self, column: int) -> list:
        """The column's sort key of every row, by arrival number; each computed once."""
        keys = self._keys.setdefault(column, [])
        if len(keys) < len(self._arrived):
            name = COLUMNS[column]
            keys.extend(sort_key(r, name) for r in self._arrived[len(keys):])
        return keys

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by ``column`` (-1: scan order). Stable both ways: ties keep the order they had, as
        with QSortFilterProxyModel, so a click on Status after P(covid) keeps each status's rows by P(covid)."""
        column = int(column)
        if not 0 <= column < len(COLUMNS):
            column = -1
        descending = column >= 0 and order == Qt.SortOrder.DescendingOrder
        if (column, descending) == (self._sort_column, self._descending):
            return  # already in that order: new rows were inserted where they belong
        self.layoutAboutToBeChanged.emit()
        old_seq = self._seq
        if column >= 0:
            new_seq = sorted(old_seq, key=self._column_keys(column).__getitem__, reverse=descending)
        else:
            new_seq = list(range(len(self._arrived)))
        self._sort_column, self._descending = column, descending
        self._seq = new_seq
        self._rows = list(map(self._arrived.__getitem__, new_seq))
        self._facts = list(map(self._arrived_facts.__getitem__, new_seq))
        old = self.persistentIndexList()
        if old:
            new_row = {seq: row for row, seq in enumerate(new_seq)}
            self.changePersistentIndexList(old, [self.index(new_row[old_seq[i.row()]], i.column()) for i in old])
        self.layoutChanged.emit()

    def sort_column(self) -> int:
        return self._sort_column

    def clear(self) -> None:
        """No rows; a sorted column stays sorted (the header still shows it) for the rows to come."""
        self.beginResetModel()
        self._rows, self._seq, self._facts, self._arrived, self._arrived_facts = [], [], [], [], []
        self._keys.clear()
        self.endResetModel()

    def result(self, row: int) -> ScanResult:
        return self._rows[row]

    def results(self) -> list[ScanResult]:
        """Every row, in scan order."""
        return list(self._arrived)


class ScanResultsFilter(QSortFilterProxyModel):
    """Keeps rows whose status is wanted and whose probability (of one class, or of any) reaches a minimum.

    It does not sort: ``sort`` (the header's click) is passed to the source model, which orders its rows itself, so
    this proxy keeps the source's order. A filter change is applied once, from facts computed once per row."""

    ANY_CLASS = ""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._status: str | None = None  # None = every status
        self._label = self.ANY_CLASS
        self._min_p = 0.0
        self._source: ScanResultsModel | None = None
        self.setSortRole(SORT_ROLE)

    def setSourceModel(self, model) -> None:
        self._source = model
        super().setSourceModel(model)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if self._source is not None:
            self._source.sort(column, order)

    def set_status(self, status: str | None) -> None:
        self.set_filters(status, self._min_p, self._label)

    def set_min_probability(self, value: float, label: str = ANY_CLASS) -> None:
        self.set_filters(self._status, value, label)

    def set_filters(self, status: str | None, min_p: float, label: str = ANY_CLASS) -> bool:
        """Status, minimum probability and its class at once: the rows are filtered once. False: nothing changed."""
        state = (status or None, float(min_p), label or self.ANY_CLASS)
        if state == (self._status, self._min_p, self._label):
            return False
        self._status, self._min_p, self._label = state
        self._refilter()
        return True

    def _refilter(self) -> None:
        """One layout change for the view. invalidateFilter() (or Qt 6.9's endFilterChange) updates the view
        incrementally, a rowsRemoved or rowsInserted per run of rows: thousands for a status filter on a
        night's scan, each with its repaint bookkeeping (a tenth of a second for 20,000 rows)."""
        self.invalidate()

    def _accepts(self, facts: tuple) -> bool:
        if self._status is not None and facts[0] != self._status:
            return False
        if self._min_p > 0.0:
            column = _FILTER_LABELS.get(self._label)
            p = None if column is None else facts[1 + column]
            if p is None or p < self._min_p:
                return False
        return True

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        if self._status is None and self._min_p <= 0.0:
            return True
        return self._accepts(self._source._facts[source_row])

    def visible_results(self) -> list[ScanResult]:
        """The rows shown, in the order shown (the source's: this proxy does not sort), without a Qt call per row."""
        src = self._source
        if src is None:
            return []
        if self._status is None and self._min_p <= 0.0:
            return list(src._rows)
        accepts = self._accepts
        return [r for r, facts in zip(src._rows, src._facts) if accepts(facts)]


class ProbabilitySpinBox(QDoubleSpinBox):
    """``user_stepping`` is True while the reader's arrows, wheel or keys change the value (not ``setValue``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.user_stepping = False

    def stepBy(self, steps: int) -> None:
        self._by_user(super().stepBy, steps)

    def keyPressEvent(self, event) -> None:
        self._by_user(super().keyPressEvent, event)

    def _by_user(self, call, arg) -> None:
        self.user_stepping = True
        try:
            call(arg)
        finally:
            self.user_stepping = False


def write_results_csv(target: Path, rows: list[ScanResult], share_gil: bool = False) -> None:
    """The scan's CSV columns, owner-only (patient IDs and paths). ``share_gil`` (on a worker thread): a pause
    of EXPORT_PAUSE_S after every EXPORT_WORK_S of writing, so the GUI thread never waits long for the lock."""
    from cxviewer.files.privacy import holds_patient_data
    from cxviewer.scan.results import CsvResultWriter

    writer = CsvResultWriter(target, private=holds_patient_data())
    try:
        clock = time.perf_counter
        until = clock() + EXPORT_WORK_S
        for r in rows:
            writer.write(r)
            if share_gil and clock() >= until:
                time.sleep(EXPORT_PAUSE_S)
                until = clock() + EXPORT_WORK_S
    finally:
        writer.close()


class ScanResultsView(QWidget):
    """Filter controls, the table and an export button."""

    openRequested = Signal(str)
    exportFinished = Signal(str, int, str)  # path, rows written, error message ("" when written)

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
        self.min_p = ProbabilitySpinBox()
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
        self.table.horizontalHeader().setResizeContentsPrecision(FIT_SAMPLE_ROWS)  # a double-click on a divider
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

        self._filter_timer = QTimer(self)  # the probability box's steps settle before the rows are filtered
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DEBOUNCE_MS)
        self._filter_timer.timeout.connect(self._filters_changed)
        self._export: BackgroundTask | None = None  # the CSV being written
        self.status_box.currentIndexChanged.connect(self._filters_changed)
        self.class_box.currentIndexChanged.connect(self._filters_changed)
        self.min_p.valueChanged.connect(self._min_p_changed)
        self.table.doubleClicked.connect(self._open_row)
        self.export_button.clicked.connect(self._choose_export)
        # every new row counts, also one the filter hides (the proxy says nothing of it); the proxy, connected
        # first, has taken the row in by the time this runs
        for sig in (self.model.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset, self.proxy.layoutChanged):
            sig.connect(self._update_count)
        self._update_count()

    def add_result(self, result: ScanResult) -> None:
        self.model.add_result(result)
        n = self.model.rowCount()
        if n >= 2 * self._fitted_rows or n in (1, 10):  # the first rows, then as the table doubles
            self.fit_columns()

    def fit_columns(self) -> None:
        """Columns as wide as their contents (headers included), File and Reason up to a cap: a long
        path or error message shows in full on hover. Measured over a sample of rows (see ``_fit_sample``):
        each text's width from the font, then the delegate's size (style margins) of the widest cell only;
        Qt's resizeColumnToContents lays out every sampled cell's text (a fifth of a second for 17 columns)."""
        self._fitted_rows = max(self.model.rowCount(), 1)
        header = self.table.horizontalHeader()
        sample = self._fit_sample()
        option = QStyleOptionViewItem()
        self.table.initViewItemOption(option)
        advance = option.fontMetrics.horizontalAdvance
        delegate = self.table.itemDelegate()
        grid = 1 if self.table.showGrid() else 0
        for column, name in enumerate(COLUMNS):
            widest, widest_row = -1, -1
            seen: set[str] = set()
            for proxy_row, result in sample:
                text = display_text(result, name)
                if text in seen:
                    continue
                seen.add(text)
                width = advance(text)
                if width > widest:
                    widest, widest_row = width, proxy_row
            size = header.sectionSizeHint(column)
            if widest_row >= 0:
                cell = delegate.sizeHint(option, self.proxy.index(widest_row, column)).width() + grid
                size = max(size, cell)
            cap = MAX_COLUMN_PX.get(name)
            if cap is not None and size > cap:
                size = cap
            if header.sectionSize(column) != size:
                header.resizeSection(column, size)

    def _fit_sample(self) -> list[tuple[int, ScanResult]]:
        """(row shown, result): the first FIT_SAMPLE_ROWS rows shown, those on screen and FIT_SAMPLE_ROWS
        spread over the rest, as the table's resize precision would sample them, without a Qt call per cell."""
        n = self.proxy.rowCount()
        rows = set(range(min(n, FIT_SAMPLE_ROWS)))
        top = self.table.rowAt(0)
        if top >= 0:
            bottom = self.table.rowAt(self.table.viewport().height() - 1)
            rows.update(range(top, (n - 1 if bottom < 0 else bottom) + 1))
        if n > FIT_SAMPLE_ROWS:
            rows.update(range(0, n, n // FIT_SAMPLE_ROWS))
        source = self.model._rows
        to_source = self.proxy.mapToSource
        index = self.proxy.index
        return [(r, source[to_source(index(r, 0)).row()]) for r in sorted(rows)]

    def clear(self) -> None:
        self.model.clear()

    def _min_p_changed(self, *_):
        if self.min_p.user_stepping:  # the reader holds an arrow or types: filter once the value rests
            self._filter_timer.start()
        else:
            self._filters_changed()

    def _filters_changed(self, *_):
        """Every filter control, applied at once (the rows are filtered once, not once per control)."""
        self._filter_timer.stop()
        self.proxy.set_filters(self.status_box.currentData(), self.min_p.value(), self.class_box.currentData())
        self._update_count()

    def _update_count(self, *_):
        self.count_label.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} shown")

    def _open_row(self, index: QModelIndex) -> None:
        result = self.proxy.data(self.proxy.index(index.row(), 0), RESULT_ROLE)
        if result is not None:
            self.openRequested.emit(result.path)

    def _snapshot_for_export(self, path: str | Path) -> tuple[Path, list[ScanResult]]:
        """The target (refused inside a scanned folder) and the rows shown, in the order shown, taken now."""
        from cxviewer.scan.guards import check_output

        target = check_output(path, self.protected_roots) if self.protected_roots else Path(path)
        return target, self.proxy.visible_results()

    def export_csv(self, path: str | Path) -> int:
        """Write the rows shown to ``path``; returns how many. Refuses a file inside a scanned folder.
        Writes on the calling thread: the button uses :meth:`start_export`, which does not."""
        target, rows = self._snapshot_for_export(path)
        write_results_csv(target, rows)
        return len(rows)

    def start_export(self, path: str | Path, report: bool = False) -> int:
        """Take the rows shown now and write them to ``path`` on a worker thread; returns how many. A refused
        target raises :class:`ScanSetupError` at once; ``exportFinished(path, rows, error)`` says when it is
        written (``report``: and a message box too, as the Export button's)."""
        target, rows = self._snapshot_for_export(path)
        # without a Qt parent: the view may close while the file is written, the task lives on
        task = BackgroundTask(lambda cancel, progress: write_results_csv(target, rows, share_gil=True) or len(rows),
                              name="scan-csv-export")
        task.succeeded.connect(lambda n, task=task: self._export_done(task, str(path), report, n, ""))
        task.failed.connect(lambda message, _code, task=task: self._export_done(task, str(path), report, 0, message))
        self._export = task
        self.export_button.setEnabled(False)  # one export at a time
        task.start()
        return len(rows)

    @property
    def exporting(self) -> bool:
        return self._export is not None

    def wait_export(self, timeout: float | None = None) -> bool:
        """Block until the running export's thread has ended (``exportFinished`` still comes by the event loop)."""
        return self._export.wait(timeout) if self._export is not None else True

    def _export_done(self, task: BackgroundTask, path: str, report: bool, n: int, error: str) -> None:
        if self._export is task:
            self._export = None
            self.export_button.setEnabled(True)
        if report:
            if error:
                QMessageBox.warning(self, "Export scan results", error)
            else:
                QMessageBox.information(self, "Export scan results", f"{n} row(s) written to {path}")
        self.exportFinished.emit(path, n, error)

    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export scan results", "scan-results.csv", "CSV files (*.csv)")
        if not path:
            return
        from cxviewer.scan.guards import ScanSetupError

        try:
            self.start_export(path, report=True)
        except (ScanSetupError, OSError) as exc:
            QMessageBox.warning(self, "Export scan results", str(exc))
