"""Qt item model of the opened files: patient -> study -> series -> image, plus one top-level
"Unreadable files" group whose rows carry the reader's message (error mark, red text, tooltip).
DICOM objects that are no images (presentation states, structured reports, encapsulated PDFs, key
object selections) are not errors: one grey row at the end counts them by kind, its tooltip names them.

Columns: the header's modality and body part (known as soon as a file is read, before it is opened, so a
hand film or a CT slice shows as such in the list), and the AI's answer for each image (its call,
"Uncertain", "Out of scope" or "Error"; blank until the film has been analysed: see ``study_ai.py``).

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
from cxviewer.ui.studies.image_entry import ImageEntry

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # "patient" | "study" | "series" | "image" | "errors" | "non_image"
PATH_ROLE = Qt.ItemDataRole.UserRole + 2  # str path of an image / unreadable file
ERROR_ROLE = Qt.ItemDataRole.UserRole + 3  # reader message of an unreadable file
SORT_ROLE = Qt.ItemDataRole.UserRole + 4
AI_RANK_ROLE = Qt.ItemDataRole.UserRole + 5  # int on an image's AI cell: lower sorts first (see study_ai.verdict)
OPENED_ROLE = Qt.ItemDataRole.UserRole + 6  # int on a patient/study row: the order it was opened in
COLUMNS = ("Name", "AI", "Body part", "Modality", "Date", "Description")  # what a reader triages by, first
AI_COLUMN = COLUMNS.index("AI")
NO_AI_RANK = 1 << 20  # not analysed yet: last when sorted by the AI's answer


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
        # presentation states, reports, PDFs found among the films: one quiet row, no error
        self.non_images: dict[Path, ImageEntry] = {}
        self._non_image: QStandardItem | None = None
        self._non_image_note: QStandardItem | None = None

    # ------------------------------------------------------------ building
    def clear_all(self) -> None:
        self.removeRows(0, self.rowCount())
        self._patients.clear()
        self._studies.clear()
        self._series.clear()
        self._images.clear()
        self.entries.clear()
        self._errors = None
        self.non_images.clear()
        self._non_image = None
        self._non_image_note = None

    def contains(self, path: Path) -> bool:
        return Path(path) in self.entries

    def add_entry(self, entry: ImageEntry) -> QStandardItem:
        """Insert (or replace) the row for ``entry``; returns its first-column item."""
        path = Path(entry.path)
        if entry.non_image:
            return self._add_non_image(entry)
        if path in self._images:
            self.remove_path(path)
        self.entries[path] = entry
        item = self._add_error(entry) if entry.error else self._add_image(entry)
        self._images[path] = item
        return item

    def _row(self, name: str, date: str = "", modality: str = "", description: str = "",
             kind: str = "", body_part: str = "") -> list[QStandardItem]:
        texts = {"Name": name, "Date": date, "Modality": modality, "Body part": body_part, "Description": description}
        items = [QStandardItem(texts.get(column, "")) for column in COLUMNS]
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
            row = self._row(desc, format_date(e.study_date), e.modality, "", kind="study", body_part=e.body_part)
            patient.appendRow(row)
            study = self._studies[skey] = row[0]
        series = self._series.get(sekey)
        if series is None:
            n = f"Series {e.series_number}" if e.series_number is not None else "Series"
            label = f"{n}: {e.series_description}" if e.series_description else n
            row = self._row(label, "", e.modality, e.source_format if e.source_format != "DICOM" else "",
                            kind="series", body_part=e.body_part)
            order = (e.series_number is None, e.series_number or 0, label)
            row[0].setData(order, SORT_ROLE)
            self._insert_sorted(study, row, order)
            series = self._series[sekey] = row[0]
        n = f"Image {e.instance_number}" if e.instance_number is not None else e.path.name
        row = self._row(n, "", e.modality, e.path.name, kind="image", body_part=e.body_part)
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
        tails = [item.row() for item in (self._errors, self._non_image) if item is not None]
        if tails:
            self.insertRow(min(tails), row)
        else:
            self.appendRow(row)

    def _add_non_image(self, e: ImageEntry) -> QStandardItem:
        """One grey row counting the objects that are no images ("3 non-image objects"), their kinds in
        the Description column ("not shown: document, report"); the tooltip names each file."""
        self.non_images[Path(e.path)] = e
        if self._non_image is None:
            row = self._row("", kind="non_image")
            grey = QBrush(QColor("#8a8a8a"))
            for it in row:
                it.setForeground(grey)
                it.setSelectable(False)
            self.appendRow(row)
            self._non_image, self._non_image_note = row[0], row[COLUMNS.index("Description")]
        n = len(self.non_images)
        kinds = sorted({x.non_image for x in self.non_images.values()})
        self._non_image.setText(f"{n} non-image object{'s' if n != 1 else ''}")
        self._non_image_note.setText(f"not shown: {', '.join(kinds)}")
        tip = "\n".join(f"{p.name}: {x.error}" for p, x in sorted(self.non_images.items()))
        for item in (self._non_image, self._non_image_note):
            item.setToolTip(tip)
        return self._non_image

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

    # ------------------------------------------------------------ AI column
    def set_ai(self, path: Path, text: str, rank: int, tooltip: str = "") -> bool:
        """Show the AI's answer for the image at ``path`` (False when no such row is open)."""
        item = self._images.get(Path(path))
        entry = self.entries.get(Path(path))
        if item is None or entry is None or not entry.ok:
            return False
        parent = item.parent() or self.invisibleRootItem()
        cell = parent.child(item.row(), AI_COLUMN)
        cell.setText(text)
        cell.setData(rank, AI_RANK_ROLE)
        cell.setToolTip(tooltip)
        return True

    def clear_ai(self) -> None:
        for path, item in self._images.items():
            if self.entries.get(path) is not None and self.entries[path].ok:
                parent = item.parent() or self.invisibleRootItem()
                cell = parent.child(item.row(), AI_COLUMN)
                cell.setText("")
                cell.setData(None, AI_RANK_ROLE)
                cell.setToolTip("")

    def sort_by_ai(self, by_ai: bool = True) -> None:
        """Order patients, studies, series and images by the AI's answer, the most notable first (a called
        class in the card's order, then uncertain, out of scope, error, not analysed yet; a group by its most
        notable image), ties in the natural order; ``by_ai=False``: back to the natural order (patients and
        studies as opened, series and images by number). Unreadable files stay last."""
        for group in (self._patients, self._studies):
            for i, item in enumerate(group.values()):
                item.setData(i, OPENED_ROLE)

        def rank(item: QStandardItem) -> int:
            if item.data(KIND_ROLE) == "image":
                parent = item.parent() or self.invisibleRootItem()
                value = parent.child(item.row(), AI_COLUMN).data(AI_RANK_ROLE)
                return NO_AI_RANK if value is None else int(value)
            return min((rank(item.child(i)) for i in range(item.rowCount())), default=NO_AI_RANK)

        def key(item: QStandardItem) -> tuple:
            kind = item.data(KIND_ROLE)
            natural = item.data(OPENED_ROLE) if kind in ("patient", "study") else item.data(SORT_ROLE)
            return (kind == "errors", rank(item) if by_ai else 0, natural if natural is not None else ())

        def reorder(parent: QStandardItem) -> None:
            ranked = sorted((key(parent.child(i)), i) for i in range(parent.rowCount()))
            rows = [parent.takeRow(0) for _ in range(parent.rowCount())]
            for _key, i in ranked:
                parent.appendRow(rows[i])
                if rows[i][0].data(KIND_ROLE) not in ("image", "errors"):
                    reorder(rows[i][0])

        reorder(self.invisibleRootItem())

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
