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

One series may hold thousands of films (a PNG or JPEG folder, DICOM files without a Series Instance UID), and
the loader adds them one by one on the GUI thread: so each study and series also keeps its rows' sort keys (and
a series its films' paths) in Python, in display order (``_Rows``). A new row's place is a bisection, listing a
series (PgUp/PgDown, "Im 2/5") copies a list, and sorting by the AI's answer moves every row in one pass.
"""

from __future__ import annotations

from bisect import bisect_right
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
_ROWS_ROLE = Qt.ItemDataRole.UserRole + 7  # on a study / series row: its _Rows (private)
_MOVE_ROLE = Qt.ItemDataRole.UserRole + 8  # int: a row's place once sort_by_ai has moved it (private)
COLUMNS = ("Name", "AI", "Body part", "Modality", "Date", "Description")  # what a reader triages by, first
AI_COLUMN = COLUMNS.index("AI")
NO_AI_RANK = 1 << 20  # not analysed yet: last when sorted by the AI's answer
_TAIL = {"non_image": 1, "errors": 2}  # sort_by_ai: after the patients, the non-image objects, the unreadable files


def thumbnail_pixmap(u8: np.ndarray) -> QPixmap:
    u8 = np.ascontiguousarray(u8)
    h, w = u8.shape
    image = QImage(u8.data, w, h, u8.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image)


class _Rows:
    """The rows under one study (its series) or one series (its images), in display order, as Python sees
    them: their SORT_ROLE keys and, under a series, the images' paths. Kept in step with the Qt items by the
    model; read again from them should the two ever differ in length (``StudyModel._rows_of``)."""

    __slots__ = ("keys", "paths", "natural")

    def __init__(self) -> None:
        self.keys: list[tuple] = []
        self.paths: list[Path] = []  # under a series; empty under a study
        self.natural = True  # the keys ascend (the natural order): a new row's place is a bisection

    def place(self, key: tuple) -> int:
        """Where a row with ``key`` goes: before the first row whose key is greater."""
        if self.natural:
            return bisect_right(self.keys, key)
        # sorted by the AI's answer: the same rule, row by row (still no Qt call)
        return next((i for i, k in enumerate(self.keys) if k > key), len(self.keys))

    def insert(self, row: int, key: tuple, path: Path | None = None) -> None:
        self.keys.insert(row, key)
        if path is not None:
            self.paths.insert(row, path)

    def remove(self, row: int) -> None:
        del self.keys[row]
        if self.paths:
            del self.paths[row]

    def reorder(self, order: list[int]) -> None:
        """Row ``i`` now shows what row ``order[i]`` showed."""
        self.keys = [self.keys[i] for i in order]
        if self.paths:
            self.paths = [self.paths[i] for i in order]
        self.natural = all(a <= b for a, b in zip(self.keys, self.keys[1:]))

    def read(self, parent: QStandardItem) -> None:
        children = [parent.child(i) for i in range(parent.rowCount())]
        self.keys = [child.data(SORT_ROLE) for child in children]
        self.paths = [Path(child.data(PATH_ROLE)) for child in children if child.data(KIND_ROLE) == "image"]
        self.natural = all(a <= b for a, b in zip(self.keys, self.keys[1:]))


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
        self._ai_ranks: dict[Path, int] = {}  # what set_ai wrote in AI_RANK_ROLE, by path (read by sort_by_ai)

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
        self._ai_ranks.clear()

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
            row[0].setData(_Rows(), _ROWS_ROLE)
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
            row[0].setData(_Rows(), _ROWS_ROLE)
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
        self._insert_sorted(series, row, sort_key, Path(e.path))
        self._update_counts(series)
        return row[0]

    def _insert_sorted(self, parent: QStandardItem, row: list[QStandardItem], key: tuple,
                       path: Path | None = None) -> None:
        """Insert ``row`` (a study's series, or a series' image at ``path``) before the first child whose
        SORT_ROLE is greater than ``key``."""
        rows = self._rows_of(parent)
        pos = rows.place(key)
        parent.insertRow(pos, row)
        rows.insert(pos, key, path)

    @staticmethod
    def _rows_of(parent: QStandardItem) -> _Rows:
        """The ``_Rows`` of a study or series row, read again from its children should they not match."""
        rows = parent.data(_ROWS_ROLE)
        if len(rows.keys) != parent.rowCount():  # rows moved behind the model's back
            rows.read(parent)
        return rows

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
        self._ai_ranks.pop(Path(path), None)
        if item is not None:
            parent = item.parent() or self.invisibleRootItem()
            row = item.row()
            rows = self._rows_of(parent) if parent.data(KIND_ROLE) == "series" else None
            parent.removeRow(row)
            if rows is not None:
                rows.remove(row)

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
        self._ai_ranks[Path(path)] = rank
        return True

    def clear_ai(self) -> None:
        """Blank every readable image's AI cell (text, rank, tooltip): cell by cell with the model's signals
        held, then one dataChanged per series for the views."""
        self._ai_ranks.clear()
        changed = []
        blocked = self.blockSignals(True)
        try:
            for series in self._series.values():
                rows = self._rows_of(series)
                for i, path in enumerate(rows.paths):
                    entry = self.entries.get(path)
                    if entry is not None and entry.ok:
                        cell = series.child(i, AI_COLUMN)
                        cell.setText("")
                        cell.setData(None, AI_RANK_ROLE)
                        cell.setToolTip("")
                if rows.paths:
                    changed.append((series.child(0, AI_COLUMN), series.child(len(rows.paths) - 1, AI_COLUMN)))
        finally:
            self.blockSignals(blocked)
        for first, last in changed:
            self.dataChanged.emit(first.index(), last.index(), [])

    def sort_by_ai(self, by_ai: bool = True) -> None:
        """Order patients, studies, series and images by the AI's answer, the most notable first (a called
        class in the card's order, then uncertain, out of scope, error, not analysed yet; a group by its most
        notable image), ties in the natural order; ``by_ai=False``: back to the natural order (patients and
        studies as opened, series and images by number). Unreadable files and non-image objects stay last."""
        for group in (self._patients, self._studies):
            for i, item in enumerate(group.values()):
                item.setData(i, OPENED_ROLE)

        def ai_rank(path: Path) -> int:
            value = self._ai_ranks.get(path)
            return NO_AI_RANK if value is None else int(value)

        plans: list[tuple[QStandardItem, list[int]]] = []  # (parent, its rows' new order): all but the errors'

        def plan(parent: QStandardItem) -> int:
            """Plan the order of ``parent``'s rows and, first, of those below them; returns ``parent``'s rank
            (its most notable image's)."""
            if parent.data(KIND_ROLE) == "series":  # its images, from Python: no Qt call per film
                rows = self._rows_of(parent)
                ranks = [ai_rank(path) for path in rows.paths]
                # by (rank, natural key, place now) as below, in two stable sorts
                order = list(range(len(rows.keys)))
                if not rows.natural:
                    order.sort(key=rows.keys.__getitem__)
                if by_ai:
                    order.sort(key=ranks.__getitem__)
                plans.append((parent, order))
                return min(ranks, default=NO_AI_RANK)
            ranks, keys = [], []
            for i in range(parent.rowCount()):
                child = parent.child(i)
                kind = child.data(KIND_ROLE)
                if kind in ("patient", "study", "series"):
                    r = plan(child)
                elif kind == "image":
                    r = ai_rank(Path(child.data(PATH_ROLE)))
                else:  # the unreadable files (no AI answer: set_ai refuses them), the non-image objects
                    r = NO_AI_RANK
                natural = child.data(OPENED_ROLE) if kind in ("patient", "study") else child.data(SORT_ROLE)
                ranks.append(r)
                keys.append((_TAIL.get(kind, 0), r if by_ai else 0, natural if natural is not None else ()))
            plans.append((parent, sorted(range(len(keys)), key=keys.__getitem__)))  # ties: as they are
            return min(ranks, default=NO_AI_RANK)

        plan(self.invisibleRootItem())
        if all(order == list(range(len(order))) for _parent, order in plans):
            return
        # Every row is told its new place (signals held: that role is shown nowhere), then one sort of the
        # whole tree by it moves them all: one layoutChanged, the selection and expanded rows kept. The
        # unreadable files under their group carry no place, so they keep theirs.
        sort_role = self.sortRole()
        blocked = self.blockSignals(True)
        try:
            for parent, order in plans:
                for place, i in enumerate(order):
                    parent.child(i).setData(place, _MOVE_ROLE)
        finally:
            self.blockSignals(blocked)
        self.setSortRole(_MOVE_ROLE)
        try:
            self.sort(0)
        finally:
            self.setSortRole(sort_role)
        for parent, order in plans:
            if parent.data(KIND_ROLE) in ("study", "series"):
                parent.data(_ROWS_ROLE).reorder(order)

    # ------------------------------------------------------------- queries
    def index_for_path(self, path: Path) -> QModelIndex:
        item = self._images.get(Path(path))
        return item.index() if item is not None else QModelIndex()

    def series_paths(self, path: Path) -> list[Path]:
        """Readable images of the series holding ``path``, in display order (a new list: the caller's to keep)."""
        item = self._images.get(Path(path))
        series = item.parent() if item is not None else None
        if series is None or series.data(KIND_ROLE) != "series":
            return []
        return list(self._rows_of(series).paths)

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
