"""A damaged file of the reader's work (settings, a report draft, annotations) is moved aside, never deleted or
overwritten: ``set_aside(path, tag)`` renames it beside itself to a name no earlier copy has, owner-only (0600)."""

from __future__ import annotations

import os
import time
from pathlib import Path

PRIVATE_MODE = 0o600


def set_aside(path: Path, tag: str = "corrupt") -> Path | None:
    """Move ``path`` to ``<stem>.<tag>-<time>-<n><suffix>`` beside it, never over an earlier copy (the new name is
    taken with a hard link, which fails if it exists); the copy is 0600. The new path, or None when it could not be
    moved (the file then stays where it was)."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        aside = path.with_name(f"{path.stem}.{tag}-{stamp}-{n}{path.suffix}")
        try:
            os.link(path, aside)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some file systems): an exclusive check, then a rename
            if aside.exists():
                continue
            try:
                path.replace(aside)
            except OSError:
                return None
        else:
            try:
                path.unlink()
            except OSError:
                pass  # the copy is safe; the damaged file is replaced by the next save
        try:
            os.chmod(aside, PRIVATE_MODE)
        except OSError:
            pass
        return aside
    return None
