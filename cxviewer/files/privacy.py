"""The one rule for who may read a file CXViewer writes.

A file that holds patient data is owner-only (0600); every writer asks ``holds_patient_data`` and passes
the answer as ``private`` to the atomic writer (``cxviewer.files.atomic``) or the scan results writers.
"""

from __future__ import annotations


def holds_patient_data(anonymised: bool = False) -> bool:
    """True (write owner-only, 0600) unless the file was anonymised.

    Named report exports (PDF, JSON), scan results (CSV, JSON Lines: always, they carry patient IDs and
    file paths), saved result tables and journals hold patient data. An anonymised report export (DICOM
    PS3.15 Basic Profile, see ``Report.anonymised``) holds none and keeps the umask's mode (or the mode of
    the file it replaces), so it can be shared.
    """
    return not anonymised
