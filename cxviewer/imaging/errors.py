"""The one exception for input CXViewer cannot show."""

from __future__ import annotations

from pathlib import Path


class UnreadableImageError(Exception):
    """A file that cannot be shown, with a reason a radiologist understands.

    ``str(error)`` is "<file name>: <reason>"; ``error.reason`` is the reason alone and
    ``error.path`` the file (None when unknown).
    """

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = reason
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path.name}: {reason}" if self.path is not None else reason)
