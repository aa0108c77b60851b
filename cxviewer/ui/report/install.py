"""The report pane in the main window: the dock, its File-menu entries and keys, and its wiring to
the film in the active viewport, to the model's results (keys are ``str(path)``) and to the AI panel's overlay
look (colour map and opacity, used by the PDF export).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cxviewer.report import DraftStore
from cxviewer.ui.report.dock import ReportDock

if TYPE_CHECKING:
    from cxviewer.ui.ai.inference import InferenceService
    from cxviewer.ui.ai.panel import AIPanel
    from cxviewer.ui.main_window import MainWindow

REPORT_SHORTCUTS = {"export_pdf": "Ctrl+E", "finalise": "Ctrl+Shift+F"}


def _add_report_actions(window: Any, dock: ReportDock) -> None:
    """File > Export report as PDF... (Ctrl+E) and Finalise report... (Ctrl+Shift+F), before "Close all"."""
    from PySide6.QtGui import QAction, QKeySequence

    dock.export_pdf_action = QAction("Export report as &PDF\N{HORIZONTAL ELLIPSIS}", window)
    dock.export_pdf_action.setObjectName("action_export_report_pdf")
    dock.export_pdf_action.setShortcut(QKeySequence(REPORT_SHORTCUTS["export_pdf"]))
    dock.export_pdf_action.triggered.connect(lambda: dock.request_export("pdf"))
    dock.finalise_action = QAction("&Finalise report\N{HORIZONTAL ELLIPSIS}", window)
    dock.finalise_action.setObjectName("action_finalise_report")
    dock.finalise_action.setShortcut(QKeySequence(REPORT_SHORTCUTS["finalise"]))
    dock.finalise_action.triggered.connect(dock.request_finalise)
    actions = (dock.export_pdf_action, dock.finalise_action)
    menu = getattr(window, "file_menu", None)
    if menu is not None:
        close_all = getattr(window, "actions_by_name", {}).get("close_all")
        before = close_all if close_all in menu.actions() else None
        for action in actions:
            menu.insertAction(before, action)
        menu.insertSeparator(before)
    for action in actions:
        window.addAction(action)  # the keys work with the menu bar hidden (full screen)
    dock.sync_actions()


def install_report_dock(window: MainWindow, inference: InferenceService | None = None,
                        ai_panel: AIPanel | None = None, store: DraftStore | None = None) -> ReportDock:
    """Add the report pane to ``window`` and wire it to the image on screen, to the model's results
    (``inference``) and to the overlay look (``ai_panel``); without them the pane has no AI block."""
    dock = ReportDock(window, store=store, settings=window.settings)
    window.add_panel(dock)

    def display():  # the active viewport's display image, while it still shows the pane's film
        view = window.active_view
        return view.display if view.rad is not None and view.rad is dock.current_radiograph() else None

    def follow(rad) -> None:  # the film in the active viewport (the outlined one in a 1x2/2x2 layout)
        dock.set_radiograph(rad)
        hit = inference.cached(str(rad.path)) if inference is not None and rad is not None else None
        if hit is not None:  # a film analysed before: its answer (and overlay) is not sent again
            dock.set_prediction(hit)

    dock.display_provider = display
    window.activeImageChanged.connect(follow)
    _add_report_actions(window, dock)
    if inference is not None:
        dock.connect_inference(inference)
    if ai_panel is not None:
        dock.connect_ai_panel(ai_panel)
    if window.active_view.rad is not None:
        dock.set_radiograph(window.active_view.rad)
    return dock
