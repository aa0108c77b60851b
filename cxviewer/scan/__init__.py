"""Batch scan, Qt-free: find every radiograph under some folders, triage each, write one row per file.

``run_scan`` is the engine (used by ``cxviewer scan`` and the GUI's batch dialog); results go
through ``CsvResultWriter`` / ``JsonlResultWriter`` with the column contract ``COLUMNS``.
"""

from cxviewer.scan.guards import ScanSetupError, check_inputs, check_output
from cxviewer.scan.pipeline import ScanOptions, ScanProgress, ScanSummary, run_scan
from cxviewer.scan.results import (
    COLUMNS,
    STATUSES,
    CsvResultWriter,
    JsonlResultWriter,
    ResultsFileError,
    ScanResult,
    read_existing_csv,
    read_existing_jsonl_paths,
)

__all__ = [
    "COLUMNS",
    "STATUSES",
    "CsvResultWriter",
    "JsonlResultWriter",
    "ResultsFileError",
    "ScanOptions",
    "ScanProgress",
    "ScanResult",
    "ScanSetupError",
    "ScanSummary",
    "check_inputs",
    "check_output",
    "read_existing_csv",
    "read_existing_jsonl_paths",
    "run_scan",
]
