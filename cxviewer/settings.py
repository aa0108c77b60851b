"""User settings of the viewer, stored as JSON in ``cxviewer.paths.user_config_dir()``.

Qt-free, at the bottom of the layers beside ``cxviewer.paths``: the viewer and the commands (``cxviewer
report`` takes its page size and institution from here) read the same file through this one module.
A missing, unreadable or corrupt file (or a wrong type for one key) falls back to the defaults with
a log line; the viewer never fails to start because of its settings. Writes are atomic
(``cxviewer.files.atomic``) and owner-only (0600: PACS passwords), so a crash while saving cannot
leave half a file behind.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

from cxviewer import paths
from cxviewer.files.atomic import atomic_write_text

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
MAX_RECENT = 10

DEFAULTS: dict[str, Any] = {
    "version": 1,
    "geometry": "",  # base64 of QMainWindow.saveGeometry()
    "window_state": "",  # base64 of QMainWindow.saveState() (docks, toolbars)
    "recent_files": [],
    "recent_folders": [],
    # user-saved windows: {"name": str, "center": float, "width": float}
    "presets": [],
    "overlay": {"annotations": True, "measure_color": "#ffd400"},
    "last_dir": "",
    "cache_mb": 1024,  # decoded pixels kept in memory for images not on screen
    "report": {"page_size": "A4", "institution": ""},  # PDF reports (cxviewer.ui.report.dock)
    # PACS (cxviewer.ui.pacs_*): nodes are {"name", "address", "tls", "ca_file", "cert_file", "key_file",
    # "username", "password"}; the listener uses TLS when "listener_tls_cert" names a certificate;
    # this file is owner-only (0600) and passwords are never logged. No node, no network.
    "pacs": {"calling_ae": "CXVIEWER", "nodes": [], "listener_ae": "CXVIEWER", "listener_port": 11112,
             "listener_accept_any": False, "timeout": 10},
    "runtime": "auto",  # what runs the model: auto, litert or tensorflow (AI > Runtime; cxviewer.model.runtime)
}


def settings_path() -> Path:
    return paths.user_config_dir() / SETTINGS_FILE


def _valid(key: str, value: Any) -> bool:
    default = DEFAULTS[key]
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(default))


class Settings:
    """Dictionary-like settings with defaults for every key."""

    def __init__(self, data: dict[str, Any] | None = None, path: Path | None = None):
        self.path = path or settings_path()
        self.data: dict[str, Any] = copy.deepcopy(DEFAULTS)
        if data:
            self._merge(data)

    def _merge(self, data: dict[str, Any]) -> None:
        for key, value in data.items():
            if key not in DEFAULTS:
                continue  # unknown keys from newer versions are ignored, not fatal
            if not _valid(key, value):
                log.warning("settings: ignoring %s=%r (expected %s); using the default",
                            key, value, type(DEFAULTS[key]).__name__)
                continue
            if isinstance(value, dict):
                merged = copy.deepcopy(DEFAULTS[key])
                merged.update(value)
                value = merged
            self.data[key] = value
        self.data["presets"] = [p for p in self.data["presets"] if _valid_preset(p)]

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or settings_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            log.info("settings: no file at %s, using defaults", path)
            return cls(path=path)
        except OSError as exc:
            log.warning("settings: cannot read %s (%s), using defaults", path, exc)
            return cls(path=path)
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("top level is not an object")
        except ValueError as exc:
            log.warning("settings: %s is corrupt (%s), using defaults", path, exc)
            return cls(path=path)
        return cls(data, path=path)

    def save(self) -> None:
        try:
            atomic_write_text(self.path, json.dumps(self.data, indent=2), private=True)
        except OSError as exc:
            log.warning("settings: cannot write %s (%s)", self.path, exc)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in DEFAULTS:
            raise KeyError(key)
        self.data[key] = value

    def add_recent(self, kind: str, path: str | Path) -> None:
        """Put ``path`` first in ``recent_files`` or ``recent_folders`` (kind "files"/"folders")."""
        key = f"recent_{kind}"
        path = str(path)
        items = [p for p in self.data[key] if p != path]
        self.data[key] = [path, *items][:MAX_RECENT]


def _valid_preset(p: Any) -> bool:
    return (isinstance(p, dict) and isinstance(p.get("name"), str)
            and isinstance(p.get("center"), (int, float)) and isinstance(p.get("width"), (int, float))
            and p["width"] > 0)
