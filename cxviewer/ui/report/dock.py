"""The report pane: header from the file, the reader's sections, the AI block, and their drafts.

Every edit is autosaved (debounced) through ``cxviewer.report.DraftStore``; reopening the study
brings the draft back, also after a crash. The pane follows one study at a time and shows its
report and the model's result for the image on screen. Its other parts live beside it:
``report_signing`` (Draft/Final: a Final report is read-only, "Amend" makes a new draft and keeps
the signed version on disk), ``report_export`` (PDF and JSON where the reader chooses) and
``report_install`` (the pane in the main window: menus, keys and wiring).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cxviewer.imaging import DisplayState
from cxviewer.imaging.dicom_values import format_date, format_person_name, format_sex, format_time, shown
from cxviewer.report import DraftStore, FinalReportExists, Report
from cxviewer.report.ai_block import RUNTIME_NAMES
from cxviewer.report.content import SECTIONS
from cxviewer.ui.report.export import ReportExports
from cxviewer.ui.report.signing import ReportSigning

log = logging.getLogger(__name__)

AUTOSAVE_MS = 800
_HEADER_ROWS = (
    ("patient_name", "Patient"), ("patient_id", "Patient ID"), ("birth_date", "Birth date"),
    ("sex", "Sex"), ("accession_number", "Accession"), ("study_date", "Study date"),
    ("study_description", "Study"), ("view_position", "View"),
)

if TYPE_CHECKING:
    from cxviewer.ui.ai.inference import InferenceService
    from cxviewer.ui.ai.panel import AIPanel

# the display state of the pane's radiograph as the viewer shows it, or None (then the default display)
DisplayProvider = Callable[[], "DisplayState | None"]


class ReportDock(ReportExports, ReportSigning, QDockWidget):
    saved = Signal(str)  # path of the autosaved report
    exported = Signal(str)  # path of an exported PDF or JSON
    statusChanged = Signal()  # another report on screen, or this one finalised or amended

    def __init__(self, parent: QWidget | None = None, store: DraftStore | None = None,
                 settings: Any = None, autosave_ms: int = AUTOSAVE_MS):
        super().__init__("Report", parent)
        self.setObjectName("reportDock")
        self.store = store if store is not None else DraftStore()
        self.store.clean_stale_temp_files()
        self.settings = settings
        self.report: Report | None = None
        self.rad: Any = None
        self.heatmap: np.ndarray | None = None
        self.display_provider: DisplayProvider | None = None
        self.annotation_layer_provider = None  # () -> RGBA of the reader's marks, oriented (ui.annotate.report_layer)
        self.overlay_style: dict = {"colormap": "inferno", "opacity": 0.45}
        self.last_export_dir: Path | None = None
        self._loading = False
        self._dirty = False

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(autosave_ms)
        self._timer.timeout.connect(self.save_now)
        self._build()
        self._show_report()
        app = QCoreApplication.instance()
        if app is not None:  # quitting within the autosave delay must not lose the last words
            app.aboutToQuit.connect(self.save_now)

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)

        self.header_box = QGroupBox("Patient and study")
        form = QFormLayout(self.header_box)
        self.header_labels: dict[str, QLabel] = {}
        for key, title in _HEADER_ROWS:
            label = QLabel("")
            label.setObjectName(f"header_{key}")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            form.addRow(title, label)
            self.header_labels[key] = label
        layout.addWidget(self.header_box)

        self.ai_box = QGroupBox("AI second opinion")
        ai_layout = QVBoxLayout(self.ai_box)
        note = QLabel("Research use, not a diagnosis.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #b07000;")
        ai_layout.addWidget(note)
        self.ai_label = QLabel("")
        self.ai_label.setObjectName("reportAi")
        self.ai_label.setWordWrap(True)
        self.ai_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        ai_layout.addWidget(self.ai_label)
        self.copy_ai_button = QPushButton("Copy AI summary to Findings")
        self.copy_ai_button.clicked.connect(self.copy_ai_summary)
        ai_layout.addWidget(self.copy_ai_button)
        layout.addWidget(self.ai_box)

        self.editors: dict[str, QPlainTextEdit] = {}
        for key, title in SECTIONS:
            layout.addWidget(QLabel(f"<b>{title}</b>"))
            edit = QPlainTextEdit()
            edit.setObjectName(f"section_{key}")
            if key in ("clinical_indication", "technique", "recommendation"):
                edit.setFixedHeight(58)
            else:
                edit.setMinimumHeight(110 if key == "findings" else 70)
            edit.textChanged.connect(self._on_edited)
            layout.addWidget(edit)
            self.editors[key] = edit
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Reader</b>"))
        self.reader_edit = QLineEdit()
        self.reader_edit.setObjectName("readerName")
        self.reader_edit.setPlaceholderText("Your name, as it should appear on the report")
        self.reader_edit.textChanged.connect(self._on_edited)
        row.addWidget(self.reader_edit)
        layout.addLayout(row)

        status_row = QHBoxLayout()
        self.status_label = QLabel("")
        self.status_label.setObjectName("reportStatus")
        self.status_label.setWordWrap(True)  # "Final — signed <date time>" wraps instead of widening the pane
        status_row.addWidget(self.status_label, 1)
        self.final_button = QPushButton("Finalise…")
        self.final_button.clicked.connect(self.request_finalise)
        status_row.addWidget(self.final_button)
        layout.addLayout(status_row)
        self.saved_label = QLabel("")
        self.saved_label.setObjectName("reportSaved")
        self.saved_label.setStyleSheet("color: #666;")
        self.saved_label.setWordWrap(True)
        layout.addWidget(self.saved_label)

        options_row = QHBoxLayout()
        self.anonymise_box = QCheckBox("Anonymise export")
        self.anonymise_box.setToolTip("DICOM Basic Confidentiality Profile: no patient name, ID, birth date, sex, "
                                      "accession, UIDs, descriptions, dates or times in the exported file")
        options_row.addWidget(self.anonymise_box)
        options_row.addStretch(1)
        layout.addLayout(options_row)
        export_row = QHBoxLayout()
        self.pdf_button = QPushButton("Export PDF…")
        self.pdf_button.clicked.connect(lambda: self.request_export("pdf"))
        export_row.addWidget(self.pdf_button)
        self.json_button = QPushButton("Export JSON…")
        self.json_button.clicked.connect(lambda: self.request_export("json"))
        export_row.addWidget(self.json_button)
        self.pdf_settings_button = QPushButton("PDF settings…")
        self.pdf_settings_button.clicked.connect(self.edit_pdf_settings)
        options_row.addWidget(self.pdf_settings_button)
        layout.addLayout(export_row)
        layout.addStretch(1)
        self._body_layout = layout

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # the pane wraps to the dock's width; should a narrow dock still be too small, it scrolls, never cuts
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setWidget(body)
        self.setWidget(scroll)

    def add_export_widget(self, widget: QWidget) -> None:
        """Put ``widget`` (e.g. "Send AI result to PACS") under the export buttons."""
        self._body_layout.insertWidget(max(0, self._body_layout.count() - 1), widget)  # above the closing stretch

    # ------------------------------------------------------------------ study
    def set_radiograph(self, rad: Any) -> None:
        """Follow the image on screen: save the current draft, open (or restore) this study's report."""
        if rad is not None and self.rad is not None and rad is self.rad:
            return
        self.save_now()
        previous_key = self.report.study_key if self.report else None
        self.rad = rad
        if rad is None:
            self.report, self.heatmap = None, None
            self._show_report()
            return
        self.heatmap = None  # the overlay belongs to one image; it comes again with this image's result
        new = Report.for_radiograph(rad)
        if new.study_key == previous_key and self.report is not None:
            return  # another image of the same study: the same report
        self.report = new  # from here on nothing typed can land in the previous study's report
        stored = self.store.load(new.study_key)
        if stored is not None:
            # the header is read again from the file (a draft's copy may predate a correction)
            stored.header = new.header
            self.report = stored
        else:
            self.report = new
        self._show_report()

    def current_key(self) -> str | None:
        """Inference key of the image on screen (``str(path)``)."""
        path = getattr(self.rad, "path", None)
        return str(path) if path is not None else None

    def current_radiograph(self) -> Any:
        """The Radiograph whose study the pane's report is (None with no study open)."""
        return self.rad

    def anonymise_requested(self) -> bool:
        """Whether the reader ticked "Anonymise export" (exports and sends leave the patient out)."""
        return self.anonymise_box.isChecked()

    def set_prediction(self, prediction: Any, card: Any = None) -> None:
        """A real model result for the image on screen: fill the AI block (a Final report keeps its own)."""
        in_scope = getattr(prediction, "in_scope", True)
        self.heatmap = getattr(prediction, "heatmap", None) if in_scope else None
        self._heatmap_model = (getattr(prediction, "model_name", ""), getattr(prediction, "model_version", ""))
        if self.report is None:
            return
        if card is None:
            card = _find_card(getattr(prediction, "model_name", ""), getattr(prediction, "model_version", ""))
        if not self.report.is_final:
            self.report.set_prediction(prediction, card)
            self._schedule_save()
        self._show_ai()

    def connect_inference(self, service: InferenceService) -> None:
        """Take an InferenceService's results (its ``result(key, prediction)`` signal) for the image on screen."""
        service.result.connect(self._on_inference_result)

    def _on_inference_result(self, key: str, prediction: Any) -> None:
        if key == self.current_key():
            self.set_prediction(prediction)

    def connect_ai_panel(self, panel: AIPanel) -> None:
        """Export the overlay with the colour map and opacity the AI panel shows, now and after changes."""
        colormap, opacity = panel.overlay_style()
        self.overlay_style.update(colormap=colormap, opacity=opacity)
        panel.colormapChanged.connect(lambda name: self.overlay_style.update(colormap=str(name)))
        panel.opacityChanged.connect(lambda value: self.overlay_style.update(opacity=float(value)))

    # ------------------------------------------------------------------ editing
    def _on_edited(self) -> None:
        if self._loading or self.report is None or self.report.is_final:
            return
        for key, edit in self.editors.items():
            self.report.sections[key] = edit.toPlainText()
        self.report.reader_name = self.reader_edit.text()
        self._schedule_save()

    def _schedule_save(self) -> None:
        self._dirty = True
        self.saved_label.setText("Unsaved changes…")
        self._timer.start()

    def save_now(self) -> Path | None:
        """Write the draft now if anything changed (autosave calls this)."""
        self._timer.stop()
        if not self._dirty or self.report is None:
            return None
        self._dirty = False
        try:
            path = self.store.save(self.report)
        except FinalReportExists:
            self.saved_label.setText("Not saved: this study has a Final report (signed elsewhere). "
                                     "Reopen the study to see it.")
            log.warning("report: a final report exists for this study; the draft was not saved over it")
            return None
        except OSError as exc:
            self._dirty = True
            self.saved_label.setText(f"Could not save the draft: {exc}")
            log.warning("report: cannot save draft: %s", exc)
            return None
        self.saved_label.setText(f"Draft saved {self.report.updated_at[11:19]}")
        self.saved.emit(str(path))
        return path

    def copy_ai_summary(self) -> None:
        if self.report is None or self.report.ai is None or self.report.is_final:
            return
        text = self.report.insert_ai_summary()
        self._loading = True
        self.editors["findings"].setPlainText(text)
        self._loading = False
        self._schedule_save()

    # ------------------------------------------------------------------ display
    def _show_report(self) -> None:
        report = self.report
        self._loading = True
        try:
            h = report.header if report else None
            values = {
                "patient_name": shown(format_person_name(h.patient_name)) if h else "",
                "patient_id": shown(h.patient_id) if h else "",
                "birth_date": format_date(h.birth_date) if h else "",
                "sex": format_sex(h.sex) if h else "",
                "accession_number": h.accession_number if h else "",
                "study_date": " ".join(x for x in (format_date(h.study_date), format_time(h.study_time)) if x)
                if h else "",
                "study_description": h.study_description if h else "",
                "view_position": h.view_position if h else "",
            }
            for key, label in self.header_labels.items():
                label.setText(values[key] or "—")
            for key, edit in self.editors.items():
                edit.setPlainText(report.sections.get(key, "") if report else "")
                edit.setReadOnly(report is None or report.is_final)
            self.reader_edit.setText(report.reader_name if report else "")
            self.reader_edit.setReadOnly(report is None or report.is_final)
        finally:
            self._loading = False
        enabled = report is not None
        for w in (self.final_button, self.pdf_button, self.json_button, self.anonymise_box):
            w.setEnabled(enabled)
        self.sync_actions()
        if report is None:
            self.status_label.setText("No study open")
            self.saved_label.setText("")
        elif report.is_final:
            self.status_label.setText(f"<b>Final</b> — signed {report.finalized_at[:16].replace('T', ' ')}")
            self.final_button.setText("Amend…")
        else:
            self.status_label.setText("<b>Draft</b>")
            self.final_button.setText("Finalise…")
            self.saved_label.setText(f"Draft restored (saved {report.updated_at[:19].replace('T', ' ')})"
                                     if report.updated_at else "")
        self._show_ai()
        self.statusChanged.emit()

    def sync_actions(self) -> None:
        """The File-menu entries (when installed) follow the buttons: enabled with a report, Amend when final."""
        report = self.report
        for action in (getattr(self, "export_pdf_action", None), getattr(self, "finalise_action", None)):
            if action is not None:
                action.setEnabled(report is not None)
        if getattr(self, "finalise_action", None) is not None:
            self.finalise_action.setText("&Amend final report\N{HORIZONTAL ELLIPSIS}" if report is not None
                                         and report.is_final else "&Finalise report\N{HORIZONTAL ELLIPSIS}")

    def _show_ai(self) -> None:
        ai = self.report.ai if self.report else None
        editable = self.report is not None and not self.report.is_final
        self.copy_ai_button.setEnabled(ai is not None and editable)
        if ai is None:
            self.ai_label.setText("No AI result for this image yet.")
            return
        if ai.out_of_scope:
            self.copy_ai_button.setEnabled(editable)
            self.ai_label.setText(f"Outside the model's scope: {escape(ai.out_of_scope)}<br>"
                                  f"{escape(ai.model_name)} {escape(ai.model_version)}")
            return
        uncertain = ai.call == "uncertain"
        lead = None if uncertain else (ai.call or ai.label)  # an uncertain film gets no bold class here either
        rows = "".join(
            f"<tr><td>{'<b>' if k == lead else ''}{escape(ai.name(k))}{'</b>' if k == lead else ''}</td>"
            f"<td align='right'>{p * 100:.1f} %</td></tr>"
            for k, p in zip(ai.labels, ai.probabilities))
        when = ai.analysed_at[:16].replace("T", " ")
        self.ai_label.setText(
            f"<table>{rows}</table>"
            + (f"Uncertain: {escape(ai.no_call_reason)}<br>" if uncertain
               else f"{'Call' if ai.call else 'Leading class'}: <b>{escape(ai.name(lead))}</b><br>")
            + f"{ai.model_name} {ai.model_version} · {ai.elapsed_ms:.0f} ms"
            + (f" on {ai.device}" if ai.device else "")
            + (f" ({RUNTIME_NAMES.get(ai.runtime, ai.runtime)})" if ai.runtime else "") + f" · {when}")

    def closeEvent(self, event) -> None:
        self.save_now()
        super().closeEvent(event)


def _find_card(name: str, version: str):
    """The model card of a prediction, from the installed models (None when it is not there)."""
    if not name:
        return None
    try:
        from cxviewer.model import available_models

        for card in available_models():
            if card.name == name and card.version == version:
                return card
    except Exception as exc:  # a broken models folder must not break the report pane
        log.warning("report: cannot look up the model card: %s", exc)
    return None
