"""``cxviewer export``: the display as an 8-bit grey PNG; never writes onto the input."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from dicom_builder import build_dicom

from cxviewer.cli import main
from cxviewer.imaging import apply_voi, read_radiograph, render_display

REPO_ROOT = Path(__file__).resolve().parent.parent
STORED = np.tile(np.linspace(0, 4095, 80), (60, 1)).astype(np.uint16)


@pytest.fixture
def source(tmp_path) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    return build_dicom(folder / "chest.dcm", STORED, photometric="MONOCHROME1", WindowCenter=2000, WindowWidth=2000)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_display(source, tmp_path, capsys):
    out = tmp_path / "out.png"
    assert main(["export", str(source), "-o", str(out)]) == 0
    assert "Wrote" in capsys.readouterr().out
    png = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint8 and png.shape == STORED.shape
    assert np.array_equal(png, render_display(read_radiograph(source)))
    assert png[0, 0] == 255 and png[0, -1] == 0  # MONOCHROME1: low values white


def test_given_window(source, tmp_path):
    out = tmp_path / "narrow.png"
    assert main(["export", str(source), "-o", str(out), "--window", "1000", "400"]) == 0
    png = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(png, apply_voi(STORED, (1000, 400), monochrome1=True))


def test_input_and_its_folder_stay_untouched(source, tmp_path):
    before, listing = _digest(source), sorted(source.parent.iterdir())
    assert main(["export", str(source), "-o", str(tmp_path / "o.png")]) == 0
    assert _digest(source) == before and sorted(source.parent.iterdir()) == listing


def test_refuses_to_overwrite_the_input(tmp_path, capsys):
    ok, data = cv2.imencode(".png", np.zeros((5, 5), np.uint8))
    png = tmp_path / "scan.png"
    png.write_bytes(data.tobytes())
    before = _digest(png)
    assert main(["export", str(png), "-o", str(png)]) != 0
    assert "refusing to write onto or into the input" in capsys.readouterr().err
    link = tmp_path / "link.png"
    link.symlink_to(png)
    assert main(["export", str(png), "-o", str(link)]) != 0  # same file by another name
    assert main(["export", str(png), "-o", str(png / "inside.png")]) != 0
    assert _digest(png) == before


@pytest.mark.parametrize(
    "output, message",
    [("out.jpg", "must be a .png file"), ("missing/out.png", "does not exist")],
)
def test_bad_output(source, tmp_path, capsys, output, message):
    assert main(["export", str(source), "-o", str(tmp_path / output)]) == 2
    assert message in capsys.readouterr().err


def test_bad_window(source, tmp_path, capsys):
    assert main(["export", str(source), "-o", str(tmp_path / "o.png"), "--window", "10", "0"]) == 2
    assert "width must be positive" in capsys.readouterr().err


def test_unreadable_input(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    out = tmp_path / "o.png"
    assert main(["export", str(bad), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "cannot read" in err and "not a DICOM file" in err
    assert not out.exists() and not list(tmp_path.glob(".o.png.*"))  # no leftovers


def test_as_a_process_without_qt_or_tensorflow(source, tmp_path):
    """The real command line: exit codes, stderr, and no heavy imports for export."""
    out = tmp_path / "p.png"
    code = (
        "import sys; from cxviewer.cli import main; rc = main(sys.argv[1:]); "
        "heavy = [m for m in ('PySide6', 'pyqtgraph', 'tensorflow') if m in sys.modules]; "
        "print('HEAVY', heavy); sys.exit(rc)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", code, "export", str(source), "-o", str(out)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout and out.is_file()
    failed = subprocess.run([sys.executable, "-m", "cxviewer", "export", str(tmp_path / "none.dcm"), "-o", str(out)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert failed.returncode == 1 and "does not exist" in failed.stderr
