"""Annotations kept per film in the user's data folder (Qt-free).

One JSON file per SOP Instance UID (a plain image without one is keyed by a hash of its full path)
under ``<user data>/annotations`` (0700), each file owner-only (0600), written atomically, so the
reader's marks come back when the film is opened again. A damaged file is logged and set aside
(renamed ``.damaged``), never a crash; an empty document removes its file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from cxviewer.annotate.model import AnnotationDocument
from cxviewer.files.atomic import atomic_write_text
from cxviewer.files.set_aside import set_aside

log = logging.getLogger(__name__)

_SAFE = re.compile(r"[^0-9A-Za-z._-]")


def film_key(rad: Any) -> str:
    """The film's SOP Instance UID, else ``file-<sha1 of its resolved path>``."""
    uid = str(getattr(rad, "sop_uid", "") or "").strip()
    if uid:
        return uid
    path = Path(getattr(rad, "path", "")).expanduser()
    try:
        path = path.resolve()
    except OSError:
        pass
    return "file-" + hashlib.sha1(str(path).encode("utf-8", "surrogateescape")).hexdigest()


class AnnotationStore:
    def __init__(self, folder: Path | None = None):
        self._folder = folder

    @property
    def folder(self) -> Path:
        from cxviewer import paths

        if self._folder is None:
            self._folder = paths.user_data_dir() / "annotations"
        return paths.private_dir(self._folder)

    def path_for(self, key: str) -> Path:
        name = _SAFE.sub("_", key)[:150] or "unnamed"
        return self.folder / f"{name}.json"

    def load(self, key: str) -> AnnotationDocument:
        path = self.path_for(key)
        if not path.is_file():
            return AnnotationDocument(key)
        try:
            doc = AnnotationDocument.from_dict(json.loads(path.read_text("utf-8")))
        except OSError as exc:
            log.warning("annotations for %s cannot be read (%s)", key, exc)
            return AnnotationDocument(key)
        except Exception as exc:  # noqa: BLE001 - any damage (bad JSON, a wrong shape): set aside, start afresh
            aside = set_aside(path, "damaged")
            log.warning("annotations for %s cannot be read (%s: %s); kept as %s", key, type(exc).__name__, exc,
                        aside.name if aside else path.name)
            return AnnotationDocument(key)
        doc.key = key
        return doc

    def save(self, doc: AnnotationDocument) -> Path | None:
        path = self.path_for(doc.key)
        if doc.is_empty():
            path.unlink(missing_ok=True)
            return None
        return atomic_write_text(path, json.dumps(doc.to_dict(), indent=1), private=True)
