"""Qt item model of the opened files: patient -> study -> series -> image, plus one top-level
"Unreadable files" group whose rows carry the reader's message (error mark, red text, tooltip).

Grouping follows ``cxviewer.imaging.study_grouping`` (patient = Patient ID + issuer; files without
UIDs by their folder); names and dates are written by ``cxviewer.imaging.dicom_values``, as in the
viewer's corner text and the report. Series are ordered by number, images by instance number. The
browser keeps only metadata and thumbnails, never the pixels, so memory stays bounded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QModelIndex, Qt, QUrl
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QStyle

from cxviewer.imaging.dicom_values import format_date, format_person_name, shown
from cxviewer.imaging.study_grouping import grouping_keys
from cxviewer.ui.image_entry import ImageEntry

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # "patient" | "study" | "series" | "image" | "errors"
PATH_ROLE = Qt.ItemDataRole.UserRole + 2  # str path of an image / unreadable file
ERROR_ROLE = Qt.ItemDataRole.UserRole + 3  # reader message of an unreadable file
SORT_ROLE = Qt.ItemDataRole.UserRole + 4
COLUMNS = ("Name", "Date", "Modality", "Description")


def thumbnail_pixmap(u8: np.ndarray) -> QPixmap:
    u8 = np.ascontiguousarray(u8)
    h, w = u8.shape
    image = QImage(u8.data, w, h, u8.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image)


class StudyModel(QStandardItemModel):
    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self._patients: dict[tuple, QStandardItem] = {}
        self._studies: dict[tuple, QStandardItem] = {}
        self._series: dict[tuple, QStandardItem] = {}
        self._images: dict[Path, QStandardItem] = {}
        self.entries: dict[Path, ImageEntry] = {}
        self._errors: QStandardItem | None = None

    # ------------------------------------------------------------ building
    def clear_all(self) -> None:
        self.removeRows(0, self.rowCount())
        self._patients.clear()
        self._studies.clear()
        self._series.clear()
        self._images.clear()
        self.entries.clear()
        self._errors = None

    def contains(self, path: Path) -> bool:
        return Path(path) in self.entries

    def add_entry(self, entry: ImageEntry) -> QStandardItem:
        """Insert (or replace) the row for ``entry``; returns its first-column item."""
        path = Path(entry.path)
        if path in self._images:
            self.remove_path(path)
        self.entries[path] = entry
        item = self._add_error(entry) if entry.error else self._add_image(entry)
        self._images[path] = item
        return item

    def _row(self, name: str, date: str = "", modality: str = "", description: str = "",
             kind: str = "") -> list[QStandardItem]:
        items = [QStandardItem(text) for text in (name, date, modality, description)]
        for it in items:
            it.setEditable(False)
            it.setData(kind, KIND_ROLE)
        return items

    def _add_image(self, e: ImageEntry) -> QStandardItem:
        pkey, skey, sekey = grouping_keys(e)
        patient = self._patients.get(pkey)
        if patient is None:
            label = shown(format_person_name(e.patient_name)) or "(no patient data)"
            if e.patient_id:
                label += f"  ({shown(e.patient_id)})"
            row = self._row(label, kind="patient")
            self._insert_before_errors(row)
            patient = self._patients[pkey] = row[0]
        study = self._studies.get(skey)
        if study is None:
            desc = e.study_description or ("(study)" if e.study_uid else e.path.parent.name)
            row = self._row(desc, format_date(e.study_date), e.modality, "", kind="study")
            patient.appendRow(row)
            study = self._studies[skey] = row[0]
        series = self._series.get(sekey)
        if series is None:
            n = f"Series {e.series_number}" if e.series_number is not None else "Series"
            label = f"{n}: {e.series_description}" if e.series_description else n
            row = self._row(label, "", e.modality, e.source_format if e.source_format != "DICOM" else "",
                            kind="series")
            order = (e.series_number is None, e.series_number or 0, label)
            row[0].setData(order, SORT_ROLE)
            self._insert_sorted(study, row, order)
            series = self._series[sekey] = row[0]
        n = f"Image {e.instance_number}" if e.instance_number is not None else e.path.name
        row = self._row(n, "", e.modality, e.path.name, kind="image")
        row[0].setData(str(e.path), PATH_ROLE)
        sort_key = (e.instance_number if e.instance_number is not None else 1 << 30, e.path.name)
        row[0].setData(sort_key, SORT_ROLE)
        row[0].setToolTip(f"{e.path}\n{e.columns} x {e.rows} px, {e.source_format}")
        if e.thumbnail is not None:
            pixmap = thumbnail_pixmap(e.thumbnail)
            icon = QIcon(pixmap)
            icon.addPixmap(pixmap, QIcon.Mode.Selected)  # grey levels stay true when selected
            row[0].setIcon(icon)
        self._insert_sorted(series, row, sort_key)
        self._update_counts(series)
        return row[0]

    @staticmethod
    def _insert_sorted(parent: QStandardItem, row: list[QStandardItem], key: tuple) -> None:
        """Insert ``row`` before the first child whose SORT_ROLE is greater than ``key``."""
        pos = parent.rowCount()
        for i in range(parent.rowCount()):
            if parent.child(i).data(SORT_ROLE) > key:
                pos = i
                break
        parent.insertRow(pos, row)

    def _update_counts(self, series: QStandardItem) -> None:
        n = series.rowCount()
        series.setData(f"{n} image{'s' if n != 1 else ''}", Qt.ItemDataRole.ToolTipRole)

    def _insert_before_errors(self, row: list[QStandardItem]) -> None:
        if self._errors is not None:
            self.insertRow(self._errors.row(), row)
        else:
            self.appendRow(row)

    def _add_error(self, e: ImageEntry) -> QStandardItem:
        icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        if self._errors is None:
            row = self._row("Unreadable files", kind="errors")
            row[0].setIcon(icon)
            self.appendRow(row)
            self._errors = row[0]
        row = self._row(e.path.name, "", "", e.error or "", kind="image")
        row[0].setData(str(e.path), PATH_ROLE)
        red = QBrush(QColor("#d04040"))
        for it in row:
            it.setData(e.error, ERROR_ROLE)
            it.setToolTip(f"{e.path}\n{e.error}")
            it.setForeground(red)
        row[0].setIcon(icon)
        self._errors.appendRow(row)
        self._errors.setText(f"Unreadable files ({self._errors.rowCount()})")
        return row[0]

    def remove_path(self, path: Path) -> None:
        item = self._images.pop(Path(path), None)
        self.entries.pop(Path(path), None)
        if item is not None:
            parent = item.parent() or self.invisibleRootItem()
            parent.removeRow(item.row())

    # ------------------------------------------------------------- queries
    def index_for_path(self, path: Path) -> QModelIndex:
        item = self._images.get(Path(path))
        return item.index() if item is not None else QModelIndex()

    def series_paths(self, path: Path) -> list[Path]:
        """Readable images of the series holding ``path``, in display order."""
        item = self._images.get(Path(path))
        if item is None or item.parent() is None or item.parent().data(KIND_ROLE) != "series":
            return []
        series = item.parent()
        return [Path(series.child(i).data(PATH_ROLE)) for i in range(series.rowCount())]

    def first_image_under(self, index: QModelIndex) -> Path | None:
        item = self.itemFromIndex(index.siblingAtColumn(0)) if index.isValid() else None
        while item is not None:
            if item.data(KIND_ROLE) == "image":
                p = Path(item.data(PATH_ROLE))
                return p if self.entries.get(p) and self.entries[p].ok else None
            item = item.child(0) if item.rowCount() else None
        return None

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes) -> QMimeData:
        """A dragged row carries the file of its first readable image (a study or series: its first)."""
        urls = []
        for index in indexes:
            if index.column() == 0:
                path = self.first_image_under(index)
                if path is not None:
                    urls.append(QUrl.fromLocalFile(str(path)))
        mime = QMimeData()
        mime.setUrls(urls)
        return mime

    def tree(self) -> list:
        """The hierarchy as nested (text, [children]) tuples (for tests and debugging)."""
        def walk(item: QStandardItem):
            return (item.text(), [walk(item.child(i)) for i in range(item.rowCount())])
        root = self.invisibleRootItem()
        return [walk(root.child(i)) for i in range(root.rowCount())]
