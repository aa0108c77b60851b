"""The report as JSON for other systems (RIS, research databases): same content as the PDF.

Raw DICOM values are kept next to their readable form so a receiving system need not parse our
formatting. An anonymised export drops every identifier (see ``Report.anonymised``).
"""

from __future__ import annotations

import json
from pathlib import Path

from cxviewer import __version__
from cxviewer.files.atomic import atomic_write_text
from cxviewer.files.privacy import holds_patient_data
from cxviewer.report.content import RESEARCH_NOTICE, SECTIONS, Report
from cxviewer.report.redaction import profile_name
from cxviewer.report.timestamps import now_iso

EXPORT_SCHEMA = "cxviewer.report-export/1"


def report_to_json(report: Report, anonymise: bool = False, generated_at: str | None = None,
                   keep_dates: bool = False) -> dict:
    src = report.anonymised(keep_dates) if anonymise else report
    body = src.to_dict()
    if anonymise:
        body.pop("study_key", None)
    return {
        "schema": EXPORT_SCHEMA,
        "generator": f"CXViewer {__version__}",
        "generated_at": generated_at or now_iso(),
        "anonymised": bool(anonymise),
        "deidentification": profile_name(keep_dates) if anonymise else "",
        "status": src.status,
        "patient_and_study": {label: value for label, value in src.header.display_rows(anonymise, keep_dates)},
        "header": body["header"],
        "sections": [{"key": k, "title": t, "text": src.sections.get(k, "")} for k, t in SECTIONS],
        "reader_name": src.reader_name,
        "finalized_at": src.finalized_at,
        "ai": body["ai"],
        "notice": RESEARCH_NOTICE,
    }


def write_report_json(report: Report, path: str | Path, anonymise: bool = False, keep_dates: bool = False) -> Path:
    data = report_to_json(report, anonymise=anonymise, keep_dates=keep_dates)
    return atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n",
                             private=holds_patient_data())
