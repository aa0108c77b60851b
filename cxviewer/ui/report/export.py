"""The report pane's exports: PDF and JSON where the reader chooses, and the PDF settings.

Exports go under a sanitised proposed name, never beside the input file by default, and never over
the radiograph itself. The PDF shows the image as the viewer does: the pane's ``display_provider``
gives its ``DisplayState`` (window, invert, rotation and flips), which renders it and writes the
caption. ``ReportExports`` is a part of ``ReportDock`` (its widgets and report are the dock's).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLineEdit, QMessageBox

from cxviewer.imaging import DisplayState
from cxviewer.imaging.orientation import orient_array
from cxviewer.report import proposed_filename, write_report_json
from cxviewer.ui.background_task import BackgroundTask

log = logging.getLogger(__name__)

REPORT_SETTINGS_DEFAULTS = {"page_size": "A4", "institution": ""}


def report_settings(settings: Any) -> dict:
    """Page size and institution from the viewer settings (defaults when the key is absent)."""
    out = dict(REPORT_SETTINGS_DEFAULTS)
    try:
        stored = settings["report"] if settings is not None else None
    except (KeyError, TypeError):
        stored = None
    if isinstance(stored, dict):
        if stored.get("page_size") in ("A4", "Letter"):
            out["page_size"] = stored["page_size"]
        if isinstance(stored.get("institution"), str):
            out["institution"] = stored["institution"]
    return out


class ReportExports:
    """PDF and JSON exports and the PDF settings, for ``ReportDock``."""

    def _default_dir(self) -> Path:
        if self.last_export_dir is not None:
            return self.last_export_dir
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return Path(docs) if docs else Path.home()

    def request_export(self, kind: str) -> None:
        """Ask where to save the report as ``kind`` ("pdf" or "json") and export it (the buttons and File menu)."""
        if self.report is None:
            return
        anonymise = self.anonymise_box.isChecked()
        suggested = self._default_dir() / proposed_filename(self.report, kind, anonymise)
        filters = "PDF (*.pdf)" if kind == "pdf" else "JSON (*.json)"
        name, _ = QFileDialog.getSaveFileName(self, f"Export report as {kind.upper()}", str(suggested), filters)
        if not name:
            return
        target = Path(name)
        if target.suffix.lower() != f".{kind}":
            target = target.with_name(target.name + f".{kind}")
        if kind == "json":
            try:
                self.export_json(target, anonymise)
            except (OSError, ValueError) as exc:
                QMessageBox.warning(self, "Export report", f"The report could not be exported:\n{exc}")
                return
            self._exported_as(target)
            return
        try:
            write = self.pdf_writer(target, anonymise)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Export report", f"The report could not be exported:\n{exc}")
            return
        # Qt paints the PDF on a thread of its own (0.1-0.3 s for a film with its Grad-CAM map): the reader goes on
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        self.saved_label.setText(f"Exporting {target.name}\N{HORIZONTAL ELLIPSIS}")
        task = BackgroundTask(lambda cancel, progress: write(), self, name="cxviewer-report-pdf",
                              describe=lambda exc: (str(exc), 1))
        task.succeeded.connect(lambda path: self._on_pdf_written(target, path, None))
        task.failed.connect(lambda message, _code: self._on_pdf_written(target, None, message))
        task.start()

    def _on_pdf_written(self, target: Path, path, error: str | None) -> None:
        QApplication.restoreOverrideCursor()
        if error is not None:
            self.saved_label.setText("")
            QMessageBox.warning(self, "Export report", f"The report could not be exported:\n{error}")
            return
        self._exported_as(target)
        self.exported.emit(str(path))

    def _exported_as(self, target: Path) -> None:
        self.last_export_dir = target.parent
        self.saved_label.setText(f"Exported {target.name}")

    def _check_target(self, target: Path) -> None:
        src = getattr(self.rad, "path", None)
        if src is not None and Path(target).resolve() == Path(src).resolve():
            raise ValueError("the export would overwrite the radiograph itself")

    def export_pdf(self, target: str | Path, anonymise: bool | None = None, announce: bool = True) -> Path:
        """Write the PDF now, on this thread. ``announce``: emit ``exported`` (False for a PDF made to be sent, not
        kept)."""
        path = self.pdf_writer(target, anonymise)()
        if announce:
            self.exported.emit(str(path))
        return path

    def pdf_writer(self, target: str | Path, anonymise: bool | None = None):
        """What writes the report's PDF to ``target``, as the screen shows it now: everything it needs (the report,
        the rendered film, the oriented map, the options) is taken here, on the GUI thread, so the returned
        function may run on any thread (Qt's PDF writer and painter work off the GUI thread) and returns the path."""
        import copy

        from cxviewer.report.pdf import render_report_pdf
        from cxviewer.report.pdf_options import PdfOptions

        if self.report is None or self.rad is None:
            raise ValueError("no study is open")
        target = Path(target)
        self._check_target(target)
        self._on_edited()
        state = self.display_provider() if self.display_provider is not None else None
        if state is None:
            state = DisplayState.default(self.rad)
        image = state.render(self.rad, oriented=True)  # as on screen: window, invert, turn and flips
        prefs = report_settings(self.settings)
        options = PdfOptions(page_size=prefs["page_size"], institution=prefs["institution"],
                             anonymise=self.anonymise_box.isChecked() if anonymise is None else anonymise,
                             image_caption=state.caption(), colormap=self.overlay_style["colormap"],
                             overlay_opacity=self.overlay_style["opacity"],
                             annotation_layer=self.annotation_layer_provider() if self.annotation_layer_provider else None)
        ai = self.report.ai
        # the overlay must come from the model whose figures the report shows (a Final keeps its own)
        same_model = ai is not None and getattr(self, "_heatmap_model", None) == (ai.model_name, ai.model_version)
        heatmap = self.heatmap if same_model else None
        if heatmap is not None:
            heatmap = orient_array(heatmap, state.orientation)
        report = copy.deepcopy(self.report)  # the reader may type on while the PDF is painted

        def write() -> Path:
            return render_report_pdf(target, report, image, heatmap, options=options)

        return write

    def export_json(self, target: str | Path, anonymise: bool | None = None) -> Path:
        if self.report is None:
            raise ValueError("no study is open")
        target = Path(target)
        self._check_target(target)
        self._on_edited()
        anonymise = self.anonymise_box.isChecked() if anonymise is None else anonymise
        path = write_report_json(self.report, target, anonymise=anonymise)
        self.exported.emit(str(path))
        return path

    def edit_pdf_settings(self) -> None:
        """Institution name and page size for PDFs, kept in the viewer settings."""
        prefs = report_settings(self.settings)
        dialog = QDialog(self)
        dialog.setWindowTitle("PDF report settings")
        form = QFormLayout(dialog)
        institution = QLineEdit(prefs["institution"])
        form.addRow("Institution", institution)
        size = QComboBox()
        size.addItems(["A4", "Letter"])
        size.setCurrentText(prefs["page_size"])
        form.addRow("Page size", size)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.set_pdf_settings(institution.text().strip(), size.currentText())

    def set_pdf_settings(self, institution: str, page_size: str) -> None:
        if page_size not in ("A4", "Letter"):
            raise ValueError("page size must be A4 or Letter")
        if self.settings is None:
            return
        try:
            self.settings["report"] = {"page_size": page_size, "institution": institution}
        except KeyError:
            log.warning("report: these settings have no 'report' entry; PDF settings are not remembered")
