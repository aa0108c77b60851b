"""A DICOM UID as part of a file name: the one rule for every file named after a UID.

UIDs come from files and from the network (PACS, the listener), read with ``force=True``: a value such
as ``1/../../x`` must never become a path. A well-formed UID (digits and dots, at most 64 characters,
PS3.5 9.1) is used as it is; anything else becomes ``x`` and a hash of the value (stable, so the same
odd UID always names the same file).
"""

from __future__ import annotations

import hashlib
import re

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def uid_file_stem(uid: object) -> str:
    """``uid`` as a file-name stem that is never a path: itself when it is a plain UID, else a hash."""
    text = str(uid or "").strip()
    if _UID.match(text) and len(text) <= 64:
        return text
    return "x" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]
