"""User settings of the viewer, stored as JSON in ``cxviewer.paths.user_config_dir()``.

Qt-free, at the bottom of the layers beside ``cxviewer.paths``: the viewer and the commands (``cxviewer
report`` takes its page size and institution from here) read the same file through this one module.
The viewer never fails to start because of its settings:

* a missing or unreadable file gives the defaults, with a log line;
* a corrupt file (not JSON, or not an object at the top) is first moved aside, unchanged and still
  owner-only, to ``settings.corrupt-<time>-<n>.json`` beside it (never over an earlier copy), so the
  user's PACS nodes and passwords can be recovered; the warning says where it went;
* every known key (and every key of every section) is checked against its default: its type (a bool
  is not a number), a finite number inside the range ``_RANGES`` gives, list elements of the expected
  shape (bad elements are dropped). A bad value is replaced by its default with one warning naming the
  key; valid values are kept, and unknown keys (from a newer version) are kept as they are.

Writes are atomic (``cxviewer.files.atomic``) and owner-only (0600: PACS passwords), so a crash while
saving cannot leave half a file behind. See :meth:`Settings.save` for two copies of the viewer running
at once.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from pathlib import Path
from typing import Any

from cxviewer import paths
from cxviewer.files.atomic import atomic_write_text
from cxviewer.files.set_aside import set_aside

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

# Allowed (low, high) of each numeric value, by dotted key; a value outside is replaced by the default.
_RANGES: dict[str, tuple[float, float]] = {
    "version": (1, 1_000_000),
    "cache_mb": (0, 1_048_576),  # MiB; main_window makes it bytes (up to 1 TiB)
    "pacs.listener_port": (1, 65535),  # the nodes dialog's spin box range, a TCP port
    "pacs.timeout": (0.1, 3600),  # seconds, for PACS requests
}
_ANY_NUMBER = {"pacs.timeout"}  # int defaults that take a float too (float(pacs["timeout"]) where used)
# Known keys of a section that are absent from the defaults (set by the PACS nodes dialog): strings.
_EXTRA_STRINGS: dict[str, tuple[str, ...]] = {
    "pacs": ("listener_tls_cert", "listener_tls_key", "listener_ca_file"),
}
# A PACS node entry (cxviewer.ui.pacs.nodes.node_from_entry and the nodes dialog): these fields, when present.
_NODE_FIELDS: dict[str, type] = {
    "name": str, "address": str, "tls": bool, "ca_file": str, "cert_file": str, "key_file": str,
    "username": str, "password": str, "token": str,
}
_BAD = object()


def settings_path() -> Path:
    return paths.user_config_dir() / SETTINGS_FILE


def _number(name: str, value: Any, default: int | float) -> Any:
    """``value`` if it is a finite number inside ``name``'s range (an int where the default is an int), else _BAD."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _BAD
    if isinstance(value, float):
        if not math.isfinite(value):
            return _BAD
        if isinstance(default, int) and name not in _ANY_NUMBER:
            if not value.is_integer():
                return _BAD
            value = int(value)
    low, high = _RANGES.get(name, (-math.inf, math.inf))
    return value if low <= value <= high else _BAD


def _node(entry: Any, index: int) -> dict[str, Any] | None:
    """A PACS node entry with its known fields of the right type (a bad field is dropped); None for a non-dict."""
    if not isinstance(entry, dict):
        log.warning("settings: pacs.nodes[%d] is not an object; dropped", index)
        return None
    out = dict(entry)
    for field, kind in _NODE_FIELDS.items():
        if field in out and not isinstance(out[field], kind):
            log.warning("settings: pacs.nodes[%d].%s has the wrong type (expected %s); ignored",
                        index, field, kind.__name__)  # the value is never logged: it may be a password
            del out[field]
    return out


def _list(name: str, value: list[Any]) -> list[Any]:
    good: list[Any]
    if name in ("recent_files", "recent_folders"):
        good = [v for v in value if isinstance(v, str) and v][:MAX_RECENT]
    elif name == "presets":
        good = [p for p in value if _valid_preset(p)]
    elif name == "pacs.nodes":
        good = [n for n in (_node(e, i) for i, e in enumerate(value)) if n is not None]
        if len(good) != len(value):
            return good  # _node said which
    else:
        return value
    if len(good) != len(value):
        log.warning("settings: %s: %d bad entries dropped", name, len(value) - len(good))
    return good


def _checked(name: str, value: Any, default: Any) -> Any:
    """``value`` checked against ``default``'s type (and ``name``'s range); _BAD when it cannot be used."""
    if isinstance(default, bool):
        return value if isinstance(value, bool) else _BAD
    if isinstance(default, (int, float)):
        return _number(name, value, default)
    if not isinstance(value, type(default)):
        return _BAD
    if isinstance(value, list):
        return _list(name, value)
    if isinstance(value, dict):
        return _section(name, value, default)
    return value


def _section(name: str, value: dict[str, Any], default: dict[str, Any]) -> dict[str, Any]:
    """The defaults of a section updated with the valid keys of ``value`` (unknown keys kept as they are)."""
    out = copy.deepcopy(default)
    for key, item in value.items():
        full = f"{name}.{key}"
        if key in default:
            good = _checked(full, item, default[key])
        elif key in _EXTRA_STRINGS.get(name, ()):
            good = item if isinstance(item, str) else _BAD
        else:
            good = item
        if good is _BAD:
            log.warning("settings: ignoring %s (expected %s); using the default", full,
                        type(default.get(key, "")).__name__)
            continue
        out[key] = good
    return out


def _read(path: Path) -> dict[str, Any] | None:
    """The file's top-level object; None (with a log line) when missing or unreadable; a corrupt file (not
    UTF-8 JSON, or not an object at the top) is set aside first, then None."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        log.info("settings: no file at %s, using defaults", path)
        return None
    except OSError as exc:
        log.warning("settings: cannot read %s (%s), using defaults", path, exc)
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
        return data
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        error = exc
    aside = set_aside(path)
    where = f"moved to {aside}" if aside else "could not be moved aside"
    log.warning("settings: %s is corrupt (%s; %s), using defaults", path, error, where)
    return None


class Settings:
    """Dictionary-like settings with defaults for every key."""

    def __init__(self, data: dict[str, Any] | None = None, path: Path | None = None):
        self.path = path or settings_path()
        self.data: dict[str, Any] = copy.deepcopy(DEFAULTS)
        self.extra: dict[str, Any] = {}  # unknown top-level keys (a newer version's), written back unchanged
        if data:
            self._merge(data)
        self._saved = copy.deepcopy(self.data)  # what save() compares against to find this copy's changes

    def _merge(self, data: dict[str, Any]) -> None:
        for key, value in data.items():
            if key not in DEFAULTS:
                self.extra[key] = value  # unknown keys from newer versions are kept, not fatal
                continue
            good = _checked(key, value, DEFAULTS[key])
            if good is _BAD:
                log.warning("settings: ignoring %s (expected %s); using the default",
                            key, type(DEFAULTS[key]).__name__)
                continue
            self.data[key] = good

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or settings_path()
        return cls(_read(path), path=path)

    def _changes(self) -> dict[str, Any]:
        """What this copy changed since it loaded or last saved: {key: value} for plain keys, and for sections
        {key: {"set": {sub: value}, "removed": [sub]}}, however it was changed (``settings[key] = ...``,
        ``add_recent``, a section edited in place)."""
        changes: dict[str, Any] = {}
        for key, value in self.data.items():
            before = self._saved.get(key)
            if value == before and type(value) is type(before):
                continue
            if isinstance(value, dict) and isinstance(before, dict):
                changes[key] = {"set": {k: v for k, v in value.items() if k not in before or before[k] != v},
                                "removed": [k for k in before if k not in value]}
            else:
                changes[key] = value
        return changes

    def save(self) -> None:
        """Write the settings, keeping what another running copy of the viewer saved meanwhile.

        The file is read again and only the keys this copy changed since it loaded (or last saved) are
        written over it; for a section (``pacs``, ``overlay``, ``report``) only its changed keys. So copy A
        started before copy B added a PACS node does not lose that node when A quits. Two copies that both
        changed the same key: the last one to save wins (for a section, per key of the section). Atomic and
        owner-only (0600) as every write.
        """
        changes = self._changes()
        disk = _read(self.path) if self.path.exists() else None
        if disk is None:
            merged = {**copy.deepcopy(self.extra), **copy.deepcopy(self.data)}
        else:
            merged = disk
            for key, value in self.data.items():
                if key not in merged:
                    merged[key] = copy.deepcopy(value)
            for key, change in changes.items():
                current = merged.get(key)
                if isinstance(self.data[key], dict) and isinstance(self._saved.get(key), dict):
                    section = dict(current) if isinstance(current, dict) else copy.deepcopy(self._saved[key])
                    section.update(copy.deepcopy(change["set"]))
                    for sub in change["removed"]:
                        section.pop(sub, None)
                    merged[key] = section
                else:
                    merged[key] = copy.deepcopy(change)
        try:
            atomic_write_text(self.path, json.dumps(merged, indent=2), private=True)
        except (OSError, ValueError) as exc:
            log.warning("settings: cannot write %s (%s)", self.path, exc)
            return
        self._saved = copy.deepcopy(self.data)

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


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _valid_preset(p: Any) -> bool:
    return (isinstance(p, dict) and isinstance(p.get("name"), str)
            and _finite(p.get("center")) and _finite(p.get("width")) and p["width"] > 0)
