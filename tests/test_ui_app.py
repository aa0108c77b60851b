"""GUI entry: ``cxviewer --sample`` and ``cxviewer PATH`` open the window on the image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ui_support import real_dicom

from cxviewer import paths

ROOT = Path(__file__).resolve().parents[1]


# run_gui ends with QApplication.exec() and the test ends it with quit(): after that, Qt returns at
# once from every nested event loop of the process (qtbot.wait included), so the real entry point
# runs in its own interpreter.
_DRIVER = textwrap.dedent("""
    import json, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication(sys.argv[:1])
    from cxviewer.ui.app import run_gui
    from cxviewer.ui.main_window import MainWindow
    ticks = [0]
    def poll():
        ticks[0] += 1
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        done = wins and wins[0].image_view.rad is not None and not wins[0].loader.busy()
        if done or ticks[0] > 600:
            if done:
                w = wins[0]
                print("RESULT " + json.dumps({
                    "path": str(w.current_path), "modality": w.image_view.rad.modality,
                    "photometric": w.image_view.rad.photometric, "shape": list(w.image_view.rad.pixels.shape),
                    "title": w.windowTitle(), "annotations": w.image_view.annotations.text("top_left"),
                    "displayed": w.image_view.displayed_image() is not None}), flush=True)
            for w in wins:
                w.close()
            app.quit()
    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    sys.exit(run_gui(sys.argv[1:]))
""")


def _cli_in_a_new_process(argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """``cxviewer.cli.main(argv)`` in a new process that prints whether PySide6 was ever imported ("QT True/False")."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CXVIEWER_HOME=str(tmp_path / "home"),
               PYTHONPATH=str(ROOT))
    code = "import sys; from cxviewer.cli import main; rc = main(sys.argv[1:]); " \
           "print('QT', 'PySide6' in sys.modules); sys.exit(rc)"
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def _run_until_image(argv: list[str], home: Path) -> dict:
    """Run the real entry point; once an image is on screen, report what the window shows."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CXVIEWER_HOME=str(home))
    proc = subprocess.run([sys.executable, "-c", _DRIVER, *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no image appeared\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def test_sample_option_opens_the_bundled_sample_study(tmp_path):
    seen = _run_until_image(["--sample"], tmp_path)
    assert Path(seen["path"]).resolve() == paths.sample_study().resolve()
    assert seen["modality"] == "CR" and len(seen["shape"]) == 2 and seen["displayed"]
    assert "CXViewer" in seen["title"]
    assert "CompressedSamples" in seen["annotations"]  # the sample's patient, in the corner


def test_path_argument_opens_the_file(tmp_path):
    f = real_dicom("CR-MONO1-10-chest.dcm")
    seen = _run_until_image([str(f)], tmp_path)
    assert Path(seen["path"]) == f
    assert seen["photometric"] == "MONOCHROME1" and seen["shape"] == [440, 440]


def test_cli_routes_paths_to_the_gui(monkeypatch):
    import cxviewer.cli as cli
    import cxviewer.ui.app as app

    calls, ahead = [], []
    monkeypatch.setattr(app, "run_gui", lambda argv, read_ahead=None: calls.append(argv) or ahead.append(read_ahead) or 0)
    assert cli.main(["some/file.dcm", "--sample"]) == 0
    assert cli.main([]) == 0
    assert calls == [["some/file.dcm", "--sample"], []]
    assert ahead[0].path == paths.sample_study() and ahead[1] is None  # the sample is read before the GUI starts
    assert ahead[0].read(ahead[0].path).modality == "CR"


@pytest.mark.parametrize("argv", [["pacss", "query", "--node", "x"], ["scna", "folder"], ["Report"]])
def test_unknown_command_lists_the_commands_without_opening_the_viewer(argv, tmp_path):
    proc = _cli_in_a_new_process(argv, tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"unknown command '{argv[0]}'" in proc.stderr
    from cxviewer.cli import SUBCOMMANDS

    for name in SUBCOMMANDS:  # every command is listed, one a line
        assert f"\n  {name} " in proc.stderr
    assert "QT False" in proc.stdout  # the viewer was never started


def test_an_existing_path_with_a_command_like_name_opens_the_viewer(tmp_path, monkeypatch):
    import cxviewer.cli as cli
    import cxviewer.ui.app as app

    (tmp_path / "films").mkdir()
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(app, "run_gui", lambda argv, read_ahead=None: calls.append(argv) or 0)
    assert cli.main(["films"]) == 0
    assert calls == [["films"]]


@pytest.mark.parametrize("argv", [["missing.dcm"], ["gone/film.dcm", "also_gone.dcm"]])
def test_only_missing_paths_say_no_such_file_without_opening_the_viewer(argv, tmp_path):
    proc = _cli_in_a_new_process(argv, tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    for path in argv:
        assert f"no such file: {path}" in proc.stderr
    assert "unknown command" not in proc.stderr
    assert "QT False" in proc.stdout  # the viewer was never started


def test_some_missing_paths_open_the_viewer_with_the_existing_ones(tmp_path, monkeypatch):
    import cxviewer.cli as cli
    import cxviewer.ui.app as app

    film = real_dicom("CR-MONO1-10-chest.dcm")
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(app, "run_gui", lambda argv, read_ahead=None: calls.append(argv) or 0)
    assert cli.main(["missing.dcm", str(film)]) == 0  # the viewer lists missing.dcm as unreadable
    assert cli.main(["missing.dcm", "--sample"]) == 0  # the sample is something to show
    assert calls == [["missing.dcm", str(film)], ["missing.dcm", "--sample"]]
