"""The Annotate menu: the annotation tools shared by every image view of a window (one
``AnnotationController`` per view, see ``controller``), their keys, undo/redo, and the GSPS and
report-PDF parts that use them.

``install_annotation_tools(window)`` adds the Annotate menu to the main window: the one distance tool
(D, also on the toolbar), Delete for the selected annotation, and the other tools.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from cxviewer.annotate.store import AnnotationStore
from cxviewer.ui.annotate.controller import TOOLS, AnnotationController


class AnnotationTools(QObject):
    """The Annotate menu's tools, shared by every image view of a window."""

    def __init__(self, window, store: AnnotationStore | None = None):
        super().__init__(window)
        self.window = window
        self.store = store or AnnotationStore()
        self.controllers: list[AnnotationController] = []
        self.tool = ""
        self.group = QActionGroup(self)
        self.group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        self.tool_actions: dict[str, QAction] = {}

    def attach(self, view) -> AnnotationController:
        c = AnnotationController(view, self.store, parent=self)
        c.set_tool(self.tool)
        c.changed.connect(lambda c=c: self._status_for(c))
        c.message.connect(lambda text: self.window.status.showMessage(text, 10000))
        self.controllers.append(c)
        return c

    def controller_for(self, view) -> AnnotationController | None:
        return next((c for c in self.controllers if c.view is view), None)

    @property
    def main(self) -> AnnotationController:
        return self.controller_for(self.window.image_view)

    @property
    def active(self) -> AnnotationController:
        """The controller of the active viewport (the one last clicked), else the main view's."""
        return self.controller_for(getattr(self.window, "active_view", self.window.image_view)) or self.main

    def set_tool(self, tool: str) -> None:
        self.tool = tool
        for c in self.controllers:
            c.set_tool(tool)
        for name, action in self.tool_actions.items():
            action.setChecked(name == tool)
        if tool:
            name = TOOLS[tool][0].replace("&", "").rstrip("\N{HORIZONTAL ELLIPSIS}")
            self.window.status.showMessage(f"{name}: {TOOLS[tool][2]}", 8000)
        else:
            self.window.status.showMessage("Annotation tools off: left drag pans", 8000)

    def _toggled(self, name: str, on: bool) -> None:
        if on:
            self.set_tool(name)
        elif self.tool == name:
            self.set_tool("")

    def _status_for(self, c: AnnotationController) -> None:
        if c.doc is not None and c.doc.annotations:
            a = c.doc.annotations[-1]
            text = c.label_for(a).replace("\n", ", ")
            if text:
                self.window.status.showMessage(text, 10000)

    def _active(self) -> AnnotationController | None:
        return next((c for c in self.controllers if c.selected), None) or self.active

    def delete_selected(self) -> None:
        for c in self.controllers:
            if c.delete_selected():
                return

    def cancel(self) -> None:
        """Esc: a half-drawn annotation is dropped and the tool is left (left drag pans again)."""
        dropped = [c.cancel_drawing() for c in self.controllers]
        had_tool = bool(self.tool)
        self.set_tool("")
        if any(dropped):
            self.window.status.showMessage("Annotation cancelled; annotation tools off (left drag pans)", 8000)
        elif not had_tool:
            self.window.status.clearMessage()

    def edit_selected_text(self) -> None:
        if not any(c.edit_selected_text() for c in self.controllers if c.selected):
            self.window.status.showMessage("Select a text or an arrow first (Select tool, S).", 8000)

    def undo(self) -> None:
        self._active().undo_stack.undo()

    def redo(self) -> None:
        self._active().undo_stack.redo()


def install_annotation_tools(window, store: AnnotationStore | None = None, report_dock=None) -> AnnotationTools:
    """The Annotate menu on ``window`` (a MainWindow); returns the tools. With ``report_dock`` its PDF
    image carries the annotations."""
    tools = AnnotationTools(window, store)
    tools.attach(window.image_view)
    menu = window.menuBar().addMenu("&Annotate")
    for name, (text, key, hint) in TOOLS.items():
        action = window._act(f"annotate_{name}", text, lambda on, n=name: tools._toggled(n, on), key, True)
        tools.tool_actions[name] = action
        action.setStatusTip(hint)
        action.setToolTip(f"{text.replace('&', '')}: {hint}")
        tools.group.addAction(action)
        menu.addAction(action)
    window.toolbar.insertAction(window.actions_by_name["preset_lung"], tools.tool_actions["distance"])
    menu.addSeparator()
    menu.addAction(window._act("annotate_delete", "De&lete selected annotation", tools.delete_selected, "Delete"))
    menu.addAction(window._act("annotate_edit_text", "&Edit selected text\N{HORIZONTAL ELLIPSIS}",
                               tools.edit_selected_text, "F2"))
    window.actions_by_name["annotate_edit_text"].setToolTip("Edit the selected text or arrow label "
                                                            "(F2, or double-click its words)")
    menu.addAction(window._act("annotate_cancel", "Cancel drawing, leave the &tool", tools.cancel, "Esc"))
    menu.addAction(window._act("annotate_clear", "Delete &all annotations on this film",
                               lambda: tools.active.clear_all(), "Ctrl+Shift+Delete"))
    menu.addAction(window._act("annotate_uncalibrate", "&Remove calibration",
                               lambda: tools.active.remove_calibration()))
    menu.addSeparator()
    menu.addAction(window._act("undo", "&Undo annotation edit", tools.undo, QKeySequence.StandardKey.Undo))
    menu.addAction(window._act("redo", "&Redo annotation edit", tools.redo,
                               ["Ctrl+Shift+Z", "Ctrl+Y"]))
    from cxviewer.ui.annotate.gsps_actions import install_presentation_state_actions

    install_presentation_state_actions(window, tools, menu)
    if report_dock is not None:
        from cxviewer.ui.annotate.report_layer import install_annotation_pdf

        install_annotation_pdf(window, tools, report_dock)
    window.annotation_tools = tools  # for tests and the smoke test; features get it by argument
    return tools
