"""DICOM tag browser dock: the header of the current image as a tree (sequences nested) with a
search box that filters on tag, name, VR and value."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QDockWidget, QLineEdit, QPlainTextEdit, QSplitter, QTreeView, QVBoxLayout, QWidget

MAX_VALUE_CHARS = 200
MAX_DETAIL_CHARS = 20_000
MIN_VALUE_PX, MIN_NAME_PX = 120, 90
FULL_TEXT_ROLE = Qt.ItemDataRole.UserRole + 1  # the element's whole value (the cell shows the first 200 chars)
COLUMNS = ("Tag", "Name", "VR", "Value")


def _value_text(elem: Any) -> str:
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    text = str(value) if value is not None else ""
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "\N{HORIZONTAL ELLIPSIS}"


def _full_value_text(elem: Any) -> str:
    """The whole value, for the tooltip and the detail pane (very long values stop at MAX_DETAIL_CHARS)."""
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    text = str(value) if value is not None else ""
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "\N{HORIZONTAL ELLIPSIS}"


def _tag_text(tag: Any) -> str:
    return f"({tag.group:04X},{tag.element:04X})"


def _tooltip(text: str) -> str:
    """Rich text so Qt wraps a long value instead of drawing one line wider than the screen."""
    from html import escape

    return f"<p style='white-space:pre-wrap'>{escape(text[:4000])}</p>" if text else ""


def build_tag_model(dataset: Any, model: QStandardItemModel) -> None:
    """Fill ``model`` with the elements of a pydicom Dataset (file meta first when present)."""
    model.removeRows(0, model.rowCount())

    def row(texts):
        items = [QStandardItem(t) for t in texts]
        for it in items:
            it.setEditable(False)
        return items

    def add(parent: QStandardItem, ds: Any) -> None:
        for elem in ds:
            r = row((_tag_text(elem.tag), elem.name, elem.VR,
                     "" if elem.VR == "SQ" else _value_text(elem)))
            r[1].setToolTip(elem.name)  # a narrow dock shortens the Name column
            if elem.VR != "SQ":
                full = _full_value_text(elem)
                r[3].setData(full, FULL_TEXT_ROLE)
                r[3].setToolTip(_tooltip(full))
            if elem.VR == "SQ":
                r[3].setText(f"{len(elem.value)} item(s)")
                for i, item_ds in enumerate(elem.value, 1):
                    ir = row((f"Item {i}", "", "", ""))
                    add(ir[0], item_ds)
                    r[0].appendRow(ir)
            parent.appendRow(r)

    if dataset is None:
        return
    root = model.invisibleRootItem()
    meta = getattr(dataset, "file_meta", None)
    if meta is not None and len(meta):
        add(root, meta)
    add(root, dataset)


class TagBrowser(QDockWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("DICOM tags", parent)
        self.setObjectName("tagBrowserDock")
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setAutoAcceptChildRows(True)
        self.search = QLineEdit(self)
        self.search.setObjectName("tagSearch")
        self.search.setPlaceholderText("Search tags (name, tag, value)\N{HORIZONTAL ELLIPSIS}")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search)
        self.view = QTreeView(self)
        self.view.setObjectName("tagTree")
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.setMouseTracking(True)  # tooltips with the whole value
        # Value takes what is left (the whole value is on hover and in the detail pane)
        self.view.header().setMinimumSectionSize(40)
        self.view.expanded.connect(self.fit_columns)  # nested tags are indented: the Tag column grows
        # the tree is in a splitter with the detail pane: the selected element's tag, name and whole value
        self.detail = QPlainTextEdit(self)
        self.detail.setObjectName("tagDetail")
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("Select an element to read its whole value")
        self.view.selectionModel().currentChanged.connect(self._show_detail)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.view)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.search)
        layout.addWidget(split)
        self.setWidget(box)
        self._pending: Any = None
        self._stale = False
        self.visibilityChanged.connect(self._on_visibility)

    def set_dataset(self, dataset: Any) -> None:
        """Show ``dataset``'s header. While the dock is hidden (by default it is a tab behind the
        study browser) the tree is only built when it is next shown or read: filling it costs
        10-20 ms of the GUI thread per image, which would otherwise delay every image on screen."""
        self._pending = dataset
        self._stale = True
        if dataset is None or self._on_screen():
            self._build()

    def _on_screen(self) -> bool:
        # Qt 6 keeps a dock in a background tab "visible", parked off-screen: its region is empty.
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def _build(self) -> None:
        if self._stale:
            self._stale = False
            build_tag_model(self._pending, self.model)
            self._on_search(self.search.text())
            self.fit_columns()
            self.detail.clear()

    def fit_columns(self, *_args) -> None:
        """Tag and VR as wide as what is shown (again when a sequence opens), Name too unless that
        leaves Value less than MIN_VALUE_PX (then Name is shortened; its tooltip has the whole name)."""
        for c in range(len(COLUMNS) - 1):
            self.view.resizeColumnToContents(c)
        header = self.view.header()
        room = self.view.viewport().width() - header.sectionSize(0) - header.sectionSize(2) - MIN_VALUE_PX
        if header.sectionSize(1) > room:
            header.resizeSection(1, max(room, MIN_NAME_PX))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def _show_detail(self, current: QModelIndex, _previous: QModelIndex = QModelIndex()) -> None:
        if not current.isValid():
            self.detail.clear()
            return
        row = [current.siblingAtColumn(c) for c in range(len(COLUMNS))]
        tag, name, vr = (row[c].data() or "" for c in range(3))
        value = row[3].data(FULL_TEXT_ROLE) or row[3].data() or ""
        self.detail.setPlainText(f"{tag}  {name}  {vr}\n\n{value}".strip())

    def _on_visibility(self, visible: bool) -> None:
        if visible:
            self._build()

    def _on_search(self, text: str) -> None:
        self._build()
        self.proxy.setFilterFixedString(text.strip())
        if text.strip():
            self.view.expandAll()
            self.fit_columns()

    def visible_rows(self) -> list[tuple[str, ...]]:
        """Rows that pass the search, depth-first (tag, name, VR, value)."""
        self._build()
        out = []

        def walk(parent):
            for r in range(self.proxy.rowCount(parent)):
                idx = self.proxy.index(r, 0, parent)
                out.append(tuple(self.proxy.index(r, c, parent).data() or "" for c in range(len(COLUMNS))))
                walk(idx)

        walk(QModelIndex())
        return out
