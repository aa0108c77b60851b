"""One rule in a 1x2 layout: the AI panel, the report pane and "Send AI result to PACS" follow the active
viewport (the outlined one), as annotations and GSPS do. Two different real films, the bundled model, a real
Orthanc (skipped without one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from cxviewer.model import available_models

pytestmark = pytest.mark.skipif(not available_models(), reason="no bundled model in models/")

RG1_STUDY = "1.3.6.1.4.1.5962.1.2.9.20040826185059.5457"


def _click(qtbot, view) -> None:
    vp = view.graphics.viewport()
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=QPoint(vp.width() // 2, vp.height() // 2))
    QApplication.processEvents()


def test_ai_panel_report_and_pacs_send_follow_the_active_viewport(orthanc, qtbot, dicom_dir, cxviewer_home):
    import pydicom

    from cxviewer.annotate.model import Annotation
    from cxviewer.pacs.sr import read_sr
    from cxviewer.settings import Settings
    from cxviewer.ui.ai.controller import install_ai_panel
    from cxviewer.ui.annotate.tools import install_annotation_tools
    from cxviewer.ui.main_window import MainWindow
    from cxviewer.ui.pacs.dialog import install_pacs
    from cxviewer.ui.report.install import install_report_dock
    from cxviewer.ui.viewer.layouts import install_layouts

    settings = Settings.load()
    pacs = dict(settings["pacs"])
    pacs["nodes"] = [{"name": "Test Orthanc", "address": orthanc.address}]
    settings["pacs"] = pacs
    window = MainWindow(settings)
    qtbot.addWidget(window)
    ai = install_ai_panel(window)
    dock = install_report_dock(window, inference=ai.service, ai_panel=ai.panel)
    install_pacs(window, report_dock=dock, inference=ai.service)
    tools = install_annotation_tools(window, report_dock=dock)
    install_layouts(window, tools)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    first, second = dicom_dir / "CR-MONO1-10-chest.dcm", dicom_dir / "RG1_UNCR.dcm"
    results: dict[str, object] = {}
    ai.service.result.connect(lambda key, pred: results.__setitem__(key, pred))
    try:
        window.open_paths([first], remember=False)
        qtbot.waitUntil(lambda: str(first) in results, timeout=600_000)
        main = window.image_view
        grid = window.viewports
        grid.set_layout("1x2")
        other = next(v for v in grid.visible_views() if v is not main)
        grid.show_in(other, second)
        qtbot.waitUntil(lambda: other.rad is not None, timeout=60_000)
        assert window.active_view is main
        assert dock.rad is main.rad and ai.current_key == str(first)  # viewport 1 is the active one

        _click(qtbot, other)
        assert window.active_view is other
        # the AI panel asks about viewport 2's film, and shows its answer when it comes
        assert ai.current_key == str(second) and ai.view is other
        qtbot.waitUntil(lambda: str(second) in results, timeout=600_000)
        shown = results[str(second)]
        for label, p in zip(shown.labels, shown.probabilities):
            assert ai.panel.figures[label].text() == f"{p * 100:.1f} %"
        assert results[str(first)].probabilities != shown.probabilities  # two films, two answers
        # the report pane holds viewport 2's study: its patient, and its AI result
        assert dock.rad is other.rad
        assert dock.report.header.patient_id == "9RG1" and "RG1" in dock.report.header.patient_name
        assert dock.report.header.study_uid == RG1_STUDY
        # the PDF image carries viewport 2's annotations (the pane's film)
        tools.controller_for(other).add(Annotation("ellipse", ((100.0, 100.0), (300.0, 300.0))))
        assert dock.annotation_layer_provider() is not None

        # "Send AI result to PACS" sends viewport 2's result into viewport 2's study
        sender = window.pacs_sender
        sender.send_button.click()
        qtbot.waitUntil(lambda: not sender.message.text().startswith("Sending"), timeout=60_000)
        assert "stored on Test Orthanc" in sender.message.text(), sender.message.text()
        (sr_path,) = (cxviewer_home / "data" / "pacs" / "outbox").glob("sr-*.dcm")
        ds = pydicom.dcmread(sr_path)
        assert str(ds.StudyInstanceUID) == RG1_STUDY
        assert read_sr(ds).probabilities == pytest.approx(dict(zip(shown.labels, shown.probabilities)), abs=1e-6)

        # back to viewport 1: all three follow again (the answer comes from the cache)
        _click(qtbot, main)
        assert ai.current_key == str(first) and dock.rad is main.rad
        assert Path(dock.rad.path) == first
        assert dock.annotation_layer_provider() is None  # viewport 1's film has no annotations
    finally:
        ai.service.shutdown()
        window.pacs_listener.shutdown()
        window.loader.shutdown()
