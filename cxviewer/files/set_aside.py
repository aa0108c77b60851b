"""A damaged file of the reader's work (a report draft, annotations) is moved aside, never deleted or overwritten:
``set_aside(path, tag)`` renames it beside itself to a name no earlier copy has, keeping its mode (0600)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path


def set_aside(path: Path, tag: str = "corrupt") -> Path | None:
    """Rename ``path`` to ``<stem>.<tag>-<time>-<random>.<suffix>`` in its folder; the new path, or None when it
    could not be moved (it then stays where it was, still not overwritten by the caller's fresh start)."""
    path = Path(path)
    aside = path.with_name(f"{path.stem}.{tag}-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}{path.suffix}")
    try:
        path.replace(aside)
    except OSError:
        return None
    return aside
