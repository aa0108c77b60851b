"""Study browser dock: a tree of patient -> study -> series -> images with thumbnails and error marks."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QHeaderView, QTreeView, QWidget

from cxviewer.ui.studies.image_entry import ImageEntry
from cxviewer.ui.studies.model import AI_COLUMN, COLUMNS, PATH_ROLE, StudyModel


class StudyBrowser(QDockWidget):
    imageSelected = Signal(object)  # Path of a readable image the user picked
    errorSelected = Signal(object)  # ImageEntry of an unreadable file the user picked

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Studies", parent)
        self.setObjectName("studyBrowserDock")
        self.model = StudyModel(self)
        self.view = QTreeView(self)
        self.view.setObjectName("studyTree")
        self.view.setModel(self.model)
        self.view.setIconSize(QSize(56, 56))
        self.view.setUniformRowHeights(False)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setDragEnabled(True)  # a study, series or image can be dragged into a viewport
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        header = self.view.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        for column, width in (("Name", 210), ("AI", 122), ("Body part", 72), ("Modality", 62), ("Date", 82)):
            header.resizeSection(COLUMNS.index(column), width)
        header.setStretchLastSection(True)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._on_header_clicked)
        self.sorted_by_ai = False
        self.setWidget(self.view)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self._quiet = False

    def add_entry(self, entry: ImageEntry) -> None:
        item = self.model.add_entry(entry)
        parent = item.index().parent()
        while parent.isValid():  # keep the new image visible
            self.view.expand(parent)
            parent = parent.parent()

    def select_path(self, path: Path) -> None:
        """Make ``path`` the current row without emitting imageSelected."""
        index = self.model.index_for_path(path)
        if not index.isValid():
            return
        self._quiet = True
        try:
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.view.scrollTo(index)
        finally:
            self._quiet = False

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._quiet or not current.isValid():
            return
        path_value = current.siblingAtColumn(0).data(PATH_ROLE)
        if path_value:
            entry = self.model.entries.get(Path(path_value))
            if entry is not None and not entry.ok:
                self.errorSelected.emit(entry)
                return
        path = self.model.first_image_under(current)
        if path is not None:
            self.imageSelected.emit(path)

    def _on_header_clicked(self, section: int) -> None:
        """The AI column's header sorts by the AI's answer (the most notable films first); clicked again, or any
        other header, back to the natural order."""
        self.sort_by_ai(section == AI_COLUMN and not self.sorted_by_ai)

    def sort_by_ai(self, on: bool = True) -> None:
        current = self.view.currentIndex()
        path_value = current.siblingAtColumn(0).data(PATH_ROLE) if current.isValid() else None
        self.model.sort_by_ai(on)
        self.sorted_by_ai = on
        header = self.view.header()
        header.setSortIndicatorShown(on)
        if on:
            header.setSortIndicator(AI_COLUMN, Qt.SortOrder.AscendingOrder)
        self.view.expandAll()  # every study and series open, as after loading
        if path_value:
            self.select_path(Path(path_value))

    def clear(self) -> None:
        self.model.clear_all()
