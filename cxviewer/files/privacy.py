"""The one rule for who may read a file CXViewer writes.

A file that holds patient data is owner-only (0600); every writer asks ``holds_patient_data`` and passes
the answer as ``private`` to the atomic writer (``cxviewer.files.atomic``) or the scan results writers.
"""

from __future__ import annotations


def holds_patient_data() -> bool:
    """True: every file CXViewer writes about a film is owner-only (0600).

    Named report exports (PDF, JSON), scan results (CSV, JSON Lines: they carry patient IDs and file paths),
    saved result tables and journals hold patient data. So does an anonymised report (DICOM PS3.15 Basic
    Profile, see ``Report.anonymised``): its PDF shows the patient's film, whose burned-in text the profile
    does not clean, and both carry what the reader typed. A reader who means to share one widens its mode.
    """
    return True
