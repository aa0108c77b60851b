"""GUI entry: ``cxviewer --sample`` and ``cxviewer PATH`` open the window on the image."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from test_ui_support import real_dicom

from cxviewer import paths
from cxviewer.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CXVIEWER_HOME", str(tmp_path / "home"))


def _run_until_image(qapp, argv: list[str]) -> dict:
    """Run run_gui(argv); once an image is on screen, record what the window shows and close it."""
    from cxviewer.ui.app import run_gui

    seen: dict = {}
    ticks = {"n": 0}

    def poll():
        ticks["n"] += 1
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        done = windows and windows[0].image_view.rad is not None and not windows[0].loader.busy()
        if done or ticks["n"] > 600:  # 60 s at most
            if done:
                w = windows[0]
                seen.update(path=w.current_path, rad=w.image_view.rad, title=w.windowTitle(),
                            tree=w.study_browser.model.tree())
            timer.stop()
            for w in windows:
                w.close()
            qapp.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    assert run_gui(argv) == 0
    return seen


def test_sample_option_opens_the_bundled_sample_study(qapp):
    seen = _run_until_image(qapp, ["--sample"])
    assert seen, "no image appeared"
    assert seen["path"].resolve() == paths.sample_study().resolve()
    assert seen["rad"].modality == "CR" and seen["rad"].pixels.ndim == 2
    assert "CXViewer" in seen["title"]


def test_path_argument_opens_the_file(qapp):
    f = real_dicom("CR-MONO1-10-chest.dcm")
    seen = _run_until_image(qapp, [str(f)])
    assert seen and seen["path"] == f
    assert seen["rad"].photometric == "MONOCHROME1"


def test_cli_routes_paths_to_the_gui(monkeypatch):
    import cxviewer.cli as cli
    import cxviewer.ui.app as app

    calls = []
    monkeypatch.setattr(app, "run_gui", lambda argv: calls.append(argv) or 0)
    assert cli.main(["some/file.dcm", "--sample"]) == 0
    assert cli.main([]) == 0
    assert calls == [["some/file.dcm", "--sample"], []]
