"""The report pane's Draft/Final step: sign a report as Final (read-only from then on), or amend a
Final report as a new draft while the signed version stays on disk. ``ReportSigning`` is a part of
``ReportDock`` (its report, store and widgets are the dock's).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox


class ReportSigning:
    """Finalise and amend, for ``ReportDock``."""

    def request_finalise(self) -> None:
        """Sign the report as Final, or amend a Final one, after asking (the button and the File menu)."""
        if self.report is None:
            return
        if self.report.is_final:
            answer = QMessageBox.question(
                self, "Amend final report",
                "This report is final. Amend it? The signed version is kept on disk, "
                "and the amended report starts as a draft.")
            if answer == QMessageBox.StandardButton.Yes:
                self.amend()
            return
        answer = QMessageBox.question(self, "Finalise report",
                                      "Sign this report as final? It becomes read-only.")
        if answer == QMessageBox.StandardButton.Yes:
            try:
                self.finalize()
            except ValueError as exc:
                QMessageBox.warning(self, "Finalise report", str(exc).capitalize() + ".")

    def finalize(self) -> Path:
        """Sign the report (raises ValueError when reader name or impression is missing)."""
        self._on_edited()
        self.report.finalize()
        self._dirty = False
        self._timer.stop()
        path = self.store.save(self.report)
        self._show_report()
        self.saved_label.setText("Final report saved")
        return path

    def amend(self) -> Path:
        """Reopen a Final report as a new draft; the signed version is archived, not lost."""
        draft = self.report.reopen_as_draft()
        path = self.store.save(draft, replace_final=True)
        self.report = draft
        self._show_report()
        return path
