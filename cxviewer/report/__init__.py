"""Findings reports (Qt-free content, drafts, JSON export, safe file names).

The PDF renderer ``cxviewer.report.pdf`` uses QtGui and is imported only when a PDF is written.
"""

from cxviewer.report.ai_block import AIBlock
from cxviewer.report.content import DRAFT, FINAL, RESEARCH_NOTICE, SECTIONS, Report
from cxviewer.report.drafts import DraftStore, FinalReportExists
from cxviewer.report.filenames import proposed_filename, safe_join, sanitize_component
from cxviewer.report.header import ReportHeader
from cxviewer.report.json_export import report_to_json, write_report_json

__all__ = [
    "AIBlock", "DRAFT", "FINAL", "RESEARCH_NOTICE", "SECTIONS", "Report", "ReportHeader",
    "DraftStore", "FinalReportExists", "proposed_filename", "safe_join", "sanitize_component",
    "report_to_json", "write_report_json",
]
