"""Viewer settings: round trip, corrupt/missing files fall back to defaults, layout remembered."""

from __future__ import annotations

import json
import logging
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from cxviewer import paths  # noqa: E402
from cxviewer.settings import DEFAULTS, MAX_RECENT, Settings, settings_path  # noqa: E402


def test_settings_live_under_cxviewer_home(cxviewer_home):
    assert settings_path().is_relative_to(cxviewer_home)
    assert settings_path().parent == paths.user_config_dir()


def test_round_trip(tmp_path):
    s = Settings.load()
    s.add_recent("files", "/data/a.dcm")
    s.add_recent("folders", "/data/study1")
    s.add_recent("files", "/data/b.dcm")
    s.add_recent("files", "/data/a.dcm")  # moves to the front, no duplicate
    s["presets"] = [{"name": "Soft", "center": 1200.0, "width": 800.0}]
    s["overlay"]["annotations"] = False
    s["geometry"] = "AAEC"
    s.save()

    again = Settings.load()
    assert again["recent_files"] == ["/data/a.dcm", "/data/b.dcm"]
    assert again["recent_folders"] == ["/data/study1"]
    assert again["presets"] == [{"name": "Soft", "center": 1200.0, "width": 800.0}]
    assert again["overlay"]["annotations"] is False
    assert again["overlay"]["measure_color"] == DEFAULTS["overlay"]["measure_color"]
    assert again["geometry"] == "AAEC"


def test_recent_list_is_bounded():
    s = Settings.load()
    for i in range(MAX_RECENT + 5):
        s.add_recent("files", f"/f{i}.dcm")
    assert len(s["recent_files"]) == MAX_RECENT
    assert s["recent_files"][0] == f"/f{MAX_RECENT + 4}.dcm"


def test_missing_file_gives_defaults(caplog):
    assert not settings_path().exists()
    with caplog.at_level(logging.INFO, logger="cxviewer.settings"):
        s = Settings.load()
    assert s.data == DEFAULTS
    assert "no file" in caplog.text


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", "", "\x00\xff garbage"])
def test_corrupt_file_falls_back_to_defaults_with_a_log_line(content, caplog):
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text(content, encoding="utf-8", errors="surrogateescape")
    with caplog.at_level(logging.WARNING, logger="cxviewer.settings"):
        s = Settings.load()
    assert s.data == DEFAULTS
    assert "corrupt" in caplog.text


def test_wrong_types_are_dropped_key_by_key(caplog):
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text(json.dumps({
        "recent_files": "not a list", "cache_mb": "big", "recent_folders": ["/ok"],
        "presets": [{"name": "Good", "center": 1, "width": 2}, {"name": "Bad", "width": -3}],
        "unknown_future_key": 1,
    }))
    with caplog.at_level(logging.WARNING, logger="cxviewer.settings"):
        s = Settings.load()
    assert s["recent_files"] == []
    assert s["cache_mb"] == DEFAULTS["cache_mb"]
    assert s["recent_folders"] == ["/ok"]
    assert [p["name"] for p in s["presets"]] == ["Good"]
    assert "recent_files" in caplog.text


def test_save_is_atomic_and_leaves_no_temp_files():
    s = Settings.load()
    s.save()
    s.save()
    files = sorted(os.listdir(settings_path().parent))
    assert files == ["settings.json"]
    assert json.loads(settings_path().read_text())["version"] == 1


def test_window_layout_and_overlay_defaults_round_trip(qtbot):
    from cxviewer.ui.main_window import MainWindow

    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.resize(701, 503)  # inside the offscreen screen, which restoreGeometry clamps to
    w.tag_browser.hide()
    w.toolbar.hide()
    w.actions_by_name["annotations"].trigger()  # annotations off
    w.add_user_preset("Wide", 2000, 4000)
    w.close()  # closeEvent stores the settings

    saved = json.loads(settings_path().read_text())
    assert saved["geometry"] and saved["window_state"]
    assert saved["overlay"]["annotations"] is False

    w2 = MainWindow(Settings.load())
    qtbot.addWidget(w2)
    w2.show()
    qtbot.waitExposed(w2)
    assert (w2.width(), w2.height()) == (701, 503)
    assert w2.tag_browser.isHidden()
    assert w2.toolbar.isHidden()
    assert not w2.study_browser.isHidden()
    assert not w2.image_view.annotations_visible()
    assert not w2.actions_by_name["annotations"].isChecked()
    assert w2.settings["presets"] == [{"name": "Wide", "center": 2000.0, "width": 4000.0}]
    w2.close()


def test_garbage_layout_in_settings_does_not_crash(qtbot, caplog):
    from cxviewer.ui.main_window import MainWindow

    s = Settings.load()
    s["geometry"] = "bm90IGEgZ2VvbWV0cnk="  # valid base64, not a Qt geometry
    s["window_state"] = "%%%not base64%%%"
    with caplog.at_level(logging.WARNING):
        w = MainWindow(s)
    qtbot.addWidget(w)
    w.show()
    assert w.isVisible()
    assert "geometry" in caplog.text
    w.close()
