"""Files and folders from drag-and-drop mime data."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData


def paths_from_mime(mime: QMimeData | None) -> list[Path]:
    """Local files/folders named by the URLs in ``mime`` (remote URLs are ignored)."""
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]
