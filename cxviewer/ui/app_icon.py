"""The application icon: the PNG renderings of ``resources/icons/cxviewer.svg`` at every size."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from cxviewer import paths


def app_icon() -> QIcon:
    """Window/taskbar icon (the same artwork ``resources/cxviewer.desktop`` names as ``cxviewer``)."""
    icon = QIcon()
    for png in sorted((paths.resources_dir() / "icons").glob("cxviewer-*.png")):
        icon.addFile(str(png))
    return icon
