"""Wires the model into the main window: AI dock, Grad-CAM overlay, AI menu, device in the status bar.

The controller asks the inference service about whatever image the view shows; the answer is
drawn only if that image is still on screen (results for images the reader has left are cached).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea

from cxviewer.ui.ai.heatmap_overlay import HeatmapOverlay
from cxviewer.ui.ai.inference import PRELOAD_DELAY_MS, InferenceService
from cxviewer.ui.ai.lung_outline import LungOutline
from cxviewer.ui.ai.panel import AIPanel

# AI > Runtime: what runs the model (cxviewer.model.runtime.RUNTIMES, kept here so the menu imports no model code)
RUNTIME_CHOICES = {
    "auto": "Automatic (TensorFlow on a CUDA GPU, else LiteRT)",
    "litert": "LiteRT on the CPU",
    "tensorflow": "TensorFlow",
}


def image_key(rad) -> str:
    return str(rad.path)


def make_inference_service(settings, parent=None, preload_delay_ms: int = PRELOAD_DELAY_MS) -> InferenceService:
    """The inference service on the runtime the settings name (``auto`` when they name none we know)."""
    runtime = settings["runtime"]
    return InferenceService(parent=parent, runtime=runtime if runtime in RUNTIME_CHOICES else "auto",
                            preload_delay_ms=preload_delay_ms)


class AIController(QObject):
    """The AI dock, overlay and menu on ``window`` (a MainWindow: its image views, settings, panels and
    status bar), driving ``service`` and showing its answers in ``panel``. It follows the active viewport
    (``window.activeViewChanged``): the panel and the overlay are those of the film in the outlined view."""

    def __init__(self, window, service: InferenceService, panel: AIPanel):
        super().__init__(window)
        self.window = window
        self.view = window.image_view
        self.service = service
        self.panel = panel
        self.overlay = HeatmapOverlay(self.view.overlay_parent())
        self.outline = LungOutline(self.view.overlay_parent())
        self._drawn = {self.view: (self.overlay, self.outline)}  # each viewport's own overlay and outline
        self.current_key: str | None = None

        dock = QDockWidget("AI second look", window)
        dock.setObjectName("aiDock")
        # Scrolled rather than squeezed: a dock shorter than the panel's wrapped text (the report pane below
        # takes its share) otherwise lays the checkboxes and the legend over each other.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.panel)
        # as wide as the panel needs beside a scroll bar, so nothing is cut at the right when it scrolls
        scroll.setMinimumWidth(self.panel.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 2)
        dock.setWidget(scroll)
        window.add_panel(dock, Qt.DockWidgetArea.RightDockWidgetArea)
        self.dock = dock
        self._build_menu()
        self._restore_settings()

        self.panel.overlayToggled.connect(self._set_overlay_visible)
        self.panel.outlineToggled.connect(self._set_outline_visible)
        self.panel.opacityChanged.connect(lambda value: self.overlay.set_opacity(value))  # the active view's
        self.panel.colormapChanged.connect(lambda name: self.overlay.set_colormap(name))
        self.service.busy.connect(self._on_busy)
        self.service.result.connect(self._on_result)
        self.service.failed.connect(self._on_failed)
        self.service.modelLoaded.connect(self._on_model_loaded)
        self.view.imageChanged.connect(self._on_image)
        window.activeViewChanged.connect(self.follow)
        window.set_compute_device("model: not loaded yet")
        from PySide6.QtWidgets import QApplication

        QApplication.instance().aboutToQuit.connect(self.service.quit)

    # ------------------------------------------------------------------ menu
    def _build_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&AI")
        self.overlay_action = QAction("Show Grad-CAM overlay", self.window, checkable=True)
        self.overlay_action.setShortcut(QKeySequence("G"))
        self.overlay_action.toggled.connect(self.panel.set_overlay_checked)
        menu.addAction(self.overlay_action)
        self.outline_action = QAction("Show lung outline", self.window, checkable=True)
        self.outline_action.setShortcut(QKeySequence("O"))
        self.outline_action.toggled.connect(self.panel.set_outline_checked)
        menu.addAction(self.outline_action)
        self.auto_action = QAction("Show overlays automatically on new films", self.window, checkable=True)
        self.auto_action.setToolTip("Off: every new film opens plain, and the reader turns the Grad-CAM map or the "
                                    "lung outline on (G, O) after looking at the film itself")
        self.auto_action.toggled.connect(lambda _on: self.store_settings())
        menu.addAction(self.auto_action)
        again = QAction("Analyse current image again", self.window)
        again.triggered.connect(self.reanalyse)
        menu.addAction(again)
        self.model_menu = menu.addMenu("Model")
        self._fill_model_menu()
        self.runtime_menu = menu.addMenu("Runtime")
        group = QActionGroup(self.runtime_menu)
        self.runtime_actions = {}
        for name, text in RUNTIME_CHOICES.items():
            action = QAction(text, self.runtime_menu, checkable=True)
            action.setChecked(name == self.service.runtime)
            action.triggered.connect(lambda _=False, n=name: self.choose_runtime(n))
            group.addAction(action)
            self.runtime_menu.addAction(action)
            self.runtime_actions[name] = action
        self.window.addAction(self.overlay_action)
        self.window.addAction(self.outline_action)

    def _fill_model_menu(self) -> None:
        from cxviewer.model import available_models

        self.model_menu.clear()
        group = QActionGroup(self.model_menu)
        cards = available_models()
        if not cards:
            self.model_menu.addAction("No model installed").setEnabled(False)
            return
        from cxviewer.model import default_model_dir

        current = self.service.model_dir if self.service.model_dir is not None else default_model_dir()
        for card in cards:
            action = QAction(card.title, self.model_menu, checkable=True)
            action.setChecked(card.directory.resolve() == Path(current).resolve())
            action.setToolTip(str(card.directory))
            action.triggered.connect(lambda _=False, d=card.directory: self.choose_model(d))
            group.addAction(action)
            self.model_menu.addAction(action)

    def choose_model(self, directory) -> None:
        self.service.set_model(directory)
        self.window.set_compute_device("model: not loaded yet")
        self.reanalyse()

    def choose_runtime(self, runtime: str) -> None:
        """Run the model on ``runtime`` from now on (kept in the settings); the image on screen is analysed again."""
        self.runtime_actions[runtime].setChecked(True)
        self.window.settings["runtime"] = runtime
        self.service.set_model(self.service.model_dir, runtime)
        self.window.set_compute_device("model: not loaded yet")
        self.reanalyse()

    # --------------------------------------------------------------- settings
    def _restore_settings(self) -> None:
        overlay = self.window.settings["overlay"]
        self.panel.set_overlay_style(overlay.get("heatmap_colormap", "inferno"),
                                     float(overlay.get("heatmap_opacity", 0.45)))
        colormap, opacity = self.panel.overlay_style()
        self.overlay.set_colormap(colormap)
        self.overlay.set_opacity(opacity)
        auto = bool(overlay.get("auto_show", False))
        self.auto_action.setChecked(auto)
        # Without "show automatically", a film never opens under an overlay left on in an earlier session.
        self.panel.set_overlay_checked(auto and bool(overlay.get("heatmap_visible", False)))
        self.panel.set_outline_checked(auto and bool(overlay.get("lung_outline_visible", False)))

    def store_settings(self) -> None:
        overlay = dict(self.window.settings["overlay"])
        colormap, opacity = self.panel.overlay_style()
        overlay.update(
            heatmap_opacity=opacity,
            heatmap_colormap=colormap,
            heatmap_visible=self.panel.overlay_checked(),
            lung_outline_visible=self.panel.outline_checked(),
            auto_show=self.auto_action.isChecked(),
        )
        self.window.settings["overlay"] = overlay

    # ---------------------------------------------------------------- events
    def _set_overlay_visible(self, on: bool) -> None:
        self.overlay.set_visible(on)
        if self.overlay_action.isChecked() != on:
            self.overlay_action.setChecked(on)
        self.store_settings()

    def _set_outline_visible(self, on: bool) -> None:
        self.outline.set_visible(on)
        if self.outline_action.isChecked() != on:
            self.outline_action.setChecked(on)
        self.store_settings()

    def _on_image(self, rad) -> None:
        self.overlay.set_heatmap(None)
        self.outline.set_mask(None)
        if rad is not None and image_key(rad) != self.current_key and not self.auto_action.isChecked():
            self.panel.set_overlay_checked(False)
            self.panel.set_outline_checked(False)
        if rad is None:
            self.current_key = None
            self.panel.show_idle()
            return
        self.current_key = image_key(rad)
        if not self.service.submit(self.current_key, rad):
            self.panel.show_busy(loading_model=self.service.device is None)

    def follow(self, view) -> None:
        """Show ``view``'s film (the active viewport's): the overlay moves onto it, the panel shows its answer."""
        if view is self.view:
            return
        self.view.imageChanged.disconnect(self._on_image)
        self.view = view
        self.overlay.set_heatmap(None)  # the map and outline are drawn on the active viewport only
        self.outline.set_mask(None)
        if view not in self._drawn:
            overlay = HeatmapOverlay(view.overlay_parent())
            colormap, opacity = self.panel.overlay_style()
            overlay.set_colormap(colormap)
            overlay.set_opacity(opacity)
            self._drawn[view] = (overlay, LungOutline(view.overlay_parent()))
        self.overlay, self.outline = self._drawn[view]
        view.imageChanged.connect(self._on_image)
        self._on_image(view.rad)  # as when a film is opened in this view

    def reanalyse(self) -> None:
        if self.view.rad is not None:
            self._on_image(self.view.rad)

    def _on_busy(self, key: str) -> None:
        if key == self.current_key:
            self.panel.show_busy(loading_model=self.service.device is None)

    def _on_result(self, key: str, prediction) -> None:
        if key != self.current_key:
            return  # the reader has moved on; the result stays cached
        rad = self.view.rad
        mask = prediction.lung_mask
        on_grid = rad is not None and mask is not None and mask.shape == rad.pixels.shape
        self.outline.set_mask(mask if on_grid and prediction.in_scope else None)
        self.outline.set_visible(self.panel.outline_checked())
        if not prediction.in_scope:
            self.panel.show_out_of_scope(prediction)
            self.overlay.set_heatmap(None)
            return
        self.panel.show_prediction(prediction)
        if prediction.heatmap is not None and rad is not None and prediction.heatmap.shape == rad.pixels.shape:
            self.overlay.set_heatmap(prediction.heatmap)
        self.overlay.set_visible(self.panel.overlay_checked())

    def _on_failed(self, key: str, message: str) -> None:
        if key == self.current_key:
            self.panel.show_error(message)

    def _on_model_loaded(self, title: str, device: str) -> None:
        self.window.set_compute_device(f"{title} on {device}")


def install_ai_panel(window, service: InferenceService | None = None, panel: AIPanel | None = None,
                     preload_delay_ms: int = PRELOAD_DELAY_MS) -> AIController:
    """Add the AI dock, overlay and menu to ``window``; the service and panel are made from the window's
    settings unless given (the service's model preload starts ``preload_delay_ms`` after the event loop, 0: at
    once). Other parts take them from the returned controller (``.service``, ``.panel``)."""
    controller_service = service if service is not None else make_inference_service(window.settings,
                                                                                      preload_delay_ms=preload_delay_ms)
    controller = AIController(window, controller_service, panel if panel is not None else AIPanel())
    if service is None:
        controller_service.setParent(controller)  # made here: lives and quits with the controller
    return controller
