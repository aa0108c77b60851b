"""cxviewer.paths: bundled files are found; user folders honour CXVIEWER_HOME."""

from __future__ import annotations

import os
from pathlib import Path

from cxviewer import paths
from cxviewer.imaging import read_radiograph


def test_user_folders_live_under_cxviewer_home(cxviewer_home):
    assert paths.user_data_dir() == cxviewer_home / "data"
    assert paths.user_config_dir() == cxviewer_home / "config"
    assert paths.user_models_dir() == cxviewer_home / "data" / "models"
    assert all(p.is_dir() for p in (paths.user_data_dir(), paths.user_config_dir(), paths.user_models_dir()))


def test_home_can_be_changed_at_run_time(tmp_path, monkeypatch):
    monkeypatch.setenv("CXVIEWER_HOME", str(tmp_path / "other"))
    assert paths.user_data_dir() == tmp_path / "other" / "data"


def test_without_home_appdirs_is_used(monkeypatch, tmp_path):
    monkeypatch.delenv("CXVIEWER_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # keep the real profile untouched
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("HOME", str(tmp_path))
    data = paths.user_data_dir()
    assert data.name == "CXViewer" and tmp_path in data.parents


def test_bundled_sample_is_a_readable_chest_cr():
    sample = paths.sample_study()
    assert sample.is_file() and sample.parent.parent == paths.resources_dir()
    assert (sample.parent / "ATTRIBUTION.md").is_file()
    assert sample.stat().st_size < 8 * 2**20
    rad = read_radiograph(sample)
    assert (rad.modality, rad.body_part, rad.view_position) == ("CR", "CHEST", "PA")
    assert rad.pixels.shape == (1955, 1841)


def test_bundled_folders_in_source_tree():
    repo = Path(__file__).resolve().parent.parent
    assert paths.resources_dir() == repo / "resources"
    assert paths.models_dir() == repo / "models"


def test_a_file_where_the_data_folder_belongs_is_a_clear_message_not_a_traceback(tmp_path, monkeypatch):
    """CXVIEWER_HOME/data is a file: the viewer says what is in the way and stops (exit 1) rather than crash or run
    with nowhere to keep drafts; predict still runs the bundled model (the user's models are not looked for)."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "data").write_text("in the way")
    env = {**os.environ, "CXVIEWER_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(repo)}
    gui = subprocess.run([sys.executable, "-m", "cxviewer", "--smoke-test"], env=env, capture_output=True, text=True,
                         timeout=300, cwd=repo)
    assert gui.returncode == 1 and "Traceback" not in gui.stderr
    assert f"{tmp_path / 'data'} is not a folder" in gui.stderr and "CXVIEWER_HOME" in gui.stderr

    from cxviewer.model.registry import model_roots

    monkeypatch.setenv("CXVIEWER_HOME", str(tmp_path))
    roots = model_roots()
    assert roots and all(not str(r).startswith(str(tmp_path)) for r in roots)
