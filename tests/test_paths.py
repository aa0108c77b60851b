"""cxviewer.paths: bundled files are found; user folders honour CXVIEWER_HOME."""

from __future__ import annotations

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
