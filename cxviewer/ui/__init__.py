"""The Qt user interface (the only package that imports PySide6 / pyqtgraph).

Importing it first applies ``pyside_guard``: a fix for a PySide6 6.12.0 reference-count bug that
would otherwise abort the viewer after a few thousand signal emits.
"""

from cxviewer.ui import pyside_guard as _pyside_guard

_pyside_guard.install()
