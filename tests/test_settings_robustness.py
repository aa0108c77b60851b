"""Settings robustness: a corrupt file is kept aside, bad values are replaced key by key (the viewer and the
PACS nodes dialog still open), and two running copies do not overwrite each other's changes."""

from __future__ import annotations

import json
import logging
import os
import stat

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from cxviewer.settings import DEFAULTS, Settings, settings_path  # noqa: E402

NODE = {"name": "Hospital", "address": "PACS@pacs.example.org:104", "tls": False, "ca_file": "", "cert_file": "",
        "key_file": "", "username": "reader", "password": "s3cret-pw"}


def _write(content: str | bytes) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    os.chmod(path, 0o600)


def _asides() -> list:
    return sorted(settings_path().parent.glob("settings.corrupt-*.json"))


# 1. a corrupt file is moved aside, not lost on the next save

@pytest.mark.parametrize("content", [
    json.dumps({"pacs": {"nodes": [NODE]}})[:-7],  # truncated JSON
    "[1, 2, 3]",  # top level not an object
    b"\xff\xfe{not utf-8",
])
def test_corrupt_file_is_set_aside_with_its_bytes_and_mode(content, caplog):
    _write(content)
    original = settings_path().read_bytes()
    with caplog.at_level(logging.WARNING, logger="cxviewer.settings"):
        s = Settings.load()
    assert s.data == DEFAULTS
    [aside] = _asides()
    assert aside.parent == settings_path().parent
    assert aside.read_bytes() == original
    assert stat.S_IMODE(aside.stat().st_mode) == 0o600
    assert "corrupt" in caplog.text and str(aside) in caplog.text
    s.save()  # the defaults are written; the copy stays
    assert json.loads(settings_path().read_text())["pacs"]["nodes"] == []
    assert aside.read_bytes() == original
    assert stat.S_IMODE(settings_path().stat().st_mode) == 0o600


def test_two_set_asides_do_not_overwrite_each_other():
    _write("{first")
    Settings.load()
    _write("{second")
    Settings.load()
    asides = _asides()
    assert len(asides) == 2
    assert sorted(a.read_bytes() for a in asides) == [b"{first", b"{second"]


def test_a_missing_file_is_not_set_aside():
    Settings.load().save()
    assert _asides() == []


# 2. values inside sections are checked

WORST = {
    "version": True,
    "geometry": 5,
    "recent_files": [1, None, "/ok.dcm", ""],
    "recent_folders": "x",
    "presets": [{"name": "NaN", "center": float("nan"), "width": 1}, {"name": "Good", "center": 40, "width": 400},
                {"name": "Bool", "center": True, "width": 3}],
    "overlay": {"annotations": "yes", "measure_color": "#00ff00", "future": [1]},
    "cache_mb": float("nan"),
    "report": {"page_size": 4, "institution": "General"},
    "pacs": {"calling_ae": 7, "nodes": [1, 2, "x", None, dict(NODE), {"name": "T", "tls": "yes", "password": 3}],
             "listener_ae": "ME", "listener_port": "abc", "listener_accept_any": 1, "timeout": -5,
             "listener_tls_cert": 9, "listener_tls_key": "/k.pem"},
    "runtime": ["tensorflow"],
    "unknown_future_key": {"kept": True},
}


def _worst_text(**changes) -> str:
    data = json.loads(json.dumps(WORST))
    data.update(changes)
    return json.dumps(data)  # NaN written as NaN, as json accepts it


def test_bad_values_are_replaced_by_defaults_and_good_ones_kept(caplog):
    _write(_worst_text())
    with caplog.at_level(logging.WARNING, logger="cxviewer.settings"):
        s = Settings.load()
    assert _asides() == []
    assert s["version"] == 1 and s["geometry"] == "" and s["runtime"] == "auto"
    assert s["recent_files"] == ["/ok.dcm"] and s["recent_folders"] == []
    assert [p["name"] for p in s["presets"]] == ["Good"]
    assert s["overlay"] == {"annotations": True, "measure_color": "#00ff00", "future": [1]}
    assert s["cache_mb"] == DEFAULTS["cache_mb"]
    assert s["report"] == {"page_size": "A4", "institution": "General"}
    pacs = s["pacs"]
    assert pacs["calling_ae"] == "CXVIEWER" and pacs["listener_ae"] == "ME"
    assert pacs["listener_port"] == 11112 and pacs["listener_accept_any"] is False and pacs["timeout"] == 10
    assert "listener_tls_cert" not in pacs and pacs["listener_tls_key"] == "/k.pem"
    assert pacs["nodes"] == [NODE, {"name": "T"}]
    assert s.extra == {"unknown_future_key": {"kept": True}}
    for key in ("version", "geometry", "recent_files", "recent_folders", "presets", "overlay.annotations",
                "cache_mb", "report.page_size", "pacs.calling_ae", "pacs.nodes[0]", "pacs.nodes[5].tls",
                "pacs.listener_port", "pacs.listener_accept_any", "pacs.timeout", "pacs.listener_tls_cert",
                "runtime"):
        assert key in caplog.text, key
    assert "s3cret" not in caplog.text
    s.save()
    assert json.loads(settings_path().read_text())["unknown_future_key"] == {"kept": True}


@pytest.mark.parametrize(("key", "value"), [
    ("cache_mb", float("nan")), ("cache_mb", float("inf")), ("cache_mb", -1), ("cache_mb", 1e308), ("cache_mb", True),
    ("version", 1.5), ("pacs.listener_port", 0), ("pacs.listener_port", 70000), ("pacs.listener_port", 11112.5),
    ("pacs.listener_port", "abc"), ("pacs.timeout", -5), ("pacs.timeout", float("-inf")), ("pacs.timeout", 0),
    ("pacs.nodes", "x"), ("pacs.nodes", {"a": 1}), ("recent_files", [1, None]),
])
def test_each_bad_value_gives_the_default(key, value, caplog):
    section, _, sub = key.rpartition(".")
    data = {section: {sub: value}} if section else {key: value}
    _write(json.dumps(data))
    with caplog.at_level(logging.WARNING, logger="cxviewer.settings"):
        s = Settings.load()
    got = s[section][sub] if section else s[key]
    expected = DEFAULTS[section][sub] if section else DEFAULTS[key]
    assert got == expected and type(got) is type(expected)
    assert key in caplog.text


@pytest.mark.parametrize(("key", "value"), [
    ("cache_mb", 0), ("cache_mb", 4096), ("cache_mb", 512.0), ("pacs.listener_port", 104), ("pacs.timeout", 2.5),
    ("pacs.listener_port", 11113.0),
])
def test_good_numbers_are_kept(key, value):
    section, _, sub = key.rpartition(".")
    _write(json.dumps({section: {sub: value}} if section else {key: value}))
    s = Settings.load()
    assert (s[section][sub] if section else s[key]) == value


def test_main_window_opens_with_the_worst_file(qtbot):
    from cxviewer.ui.main_window import MainWindow

    _write(_worst_text(cache_mb=float("inf")))
    w = MainWindow(Settings.load())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.cache.max_bytes == DEFAULTS["cache_mb"] * 2**20
    w.close()
    w.loader.shutdown()


@pytest.mark.parametrize("pacs", [{"listener_port": "abc"}, {"nodes": [1, 2]}, {"nodes": "x"}, WORST["pacs"]])
def test_pacs_nodes_dialog_opens_with_bad_values(qtbot, pacs):
    from cxviewer.ui.pacs.nodes import PacsNodesDialog, configured_nodes

    _write(json.dumps({"pacs": pacs}))
    settings = Settings.load()
    dialog = PacsNodesDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.listener_port.value() == 11112
    configured_nodes(settings)


# 3. two running copies keep each other's changes

def test_two_copies_keep_both_changes():
    first = Settings.load()
    first["pacs"] = {**first["pacs"], "nodes": [dict(NODE, name="Old")]}
    first.save()

    a = Settings.load()
    b = Settings.load()
    pacs = dict(b["pacs"])
    pacs["nodes"] = [*pacs["nodes"], dict(NODE)]
    b["pacs"] = pacs
    b.save()

    a["geometry"] = "AAEC"
    a.add_recent("files", "/data/a.dcm")
    a["overlay"]["annotations"] = False  # a section edited in place counts too
    a["pacs"] = dict(a["pacs"])  # replaced with an equal copy: not a change
    a.save()

    disk = json.loads(settings_path().read_text())
    assert [n["name"] for n in disk["pacs"]["nodes"]] == ["Old", "Hospital"]
    assert disk["geometry"] == "AAEC" and disk["recent_files"] == ["/data/a.dcm"]
    assert disk["overlay"]["annotations"] is False
    assert stat.S_IMODE(settings_path().stat().st_mode) == 0o600
    again = Settings.load()
    assert [n["name"] for n in again["pacs"]["nodes"]] == ["Old", "Hospital"] and again["geometry"] == "AAEC"


def test_last_writer_wins_per_key_and_section_keys_merge():
    a = Settings.load()
    b = Settings.load()
    b["geometry"] = "B"
    b["pacs"] = {**b["pacs"], "calling_ae": "BEE"}
    b.save()
    a["geometry"] = "A"
    a["pacs"]["listener_port"] = 4242
    a.save()
    disk = json.loads(settings_path().read_text())
    assert disk["geometry"] == "A"
    assert disk["pacs"]["calling_ae"] == "BEE" and disk["pacs"]["listener_port"] == 4242


def test_a_second_save_writes_only_new_changes():
    a = Settings.load()
    b = Settings.load()
    a["last_dir"] = "/a"
    a.save()
    b["last_dir"] = "/b"
    b.save()
    a["geometry"] = "G"
    a.save()  # last_dir was saved already: B's value stays
    disk = json.loads(settings_path().read_text())
    assert disk["last_dir"] == "/b" and disk["geometry"] == "G"


def test_save_keeps_unknown_keys_written_by_a_newer_version():
    a = Settings.load()
    _write(json.dumps({"future": 1, "pacs": {"future_sub": "x"}}))
    a["last_dir"] = "/a"
    a.save()
    disk = json.loads(settings_path().read_text())
    assert disk["future"] == 1 and disk["pacs"] == {"future_sub": "x"} and disk["last_dir"] == "/a"
    assert Settings.load()["pacs"]["future_sub"] == "x"
