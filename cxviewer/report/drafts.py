"""Autosaved reports, one JSON file per study under ``cxviewer.paths.user_data_dir()/reports``.

File names are a hash of the study key, so nothing from a DICOM header decides where a file goes.
Every write is atomic (``cxviewer.files.atomic``): after a crash the last complete save comes
back, and a half-written temp file is ignored. A Final report is never silently overwritten:
``save`` refuses with ``FinalReportExists`` unless the caller asks to replace it, and even then the
previous Final is kept beside it as ``<hash>.final-<time>.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from cxviewer.files.atomic import TEMP_SUFFIX, atomic_write_text
from cxviewer.files.set_aside import set_aside
from cxviewer.report.content import Report
from cxviewer.report.timestamps import now_iso

log = logging.getLogger(__name__)

REPORTS_DIR = "reports"
# a temp file this old is left over from a crash, not a save in progress
STALE_TEMP_S = 3600.0


class FinalReportExists(Exception):
    """Saving would replace a signed (Final) report."""

    def __init__(self, existing: Report):
        super().__init__("a final report for this study already exists; amend it explicitly to replace it")
        self.existing = existing


def default_root() -> Path:
    from cxviewer import paths

    return paths.private_dir(paths.user_data_dir() / REPORTS_DIR)


class DraftStore:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_root()

    def path_for(self, study_key: str) -> Path:
        if not study_key:
            raise ValueError("a report without a study key cannot be stored")
        digest = hashlib.sha256(study_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.root / f"{digest}.json"

    def load(self, study_key: str) -> Report | None:
        """The stored report of this study, or None. A corrupt file is moved aside (kept), not deleted."""
        path = self.path_for(study_key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("reports: cannot read %s (%s)", path, exc)
            return None
        try:
            report = Report.from_dict(json.loads(text))
        except Exception as exc:  # noqa: BLE001 - any damage (bad JSON, a wrong shape): set aside, start afresh
            aside = set_aside(path)
            log.warning("reports: %s is unreadable (%s: %s); kept as %s", path, type(exc).__name__, exc,
                        aside.name if aside else "it is")
            return None
        if report.study_key != study_key:
            log.warning("reports: %s belongs to another study; ignored", path)
            return None
        return report

    def save(self, report: Report, replace_final: bool = False) -> Path:
        """Write ``report`` atomically. Raises FinalReportExists rather than replace a Final silently."""
        path = self.path_for(report.study_key)
        existing = self.load(report.study_key)
        if existing is not None and existing.is_final:
            if _same(existing, report):
                return path  # saving the very same Final again changes nothing
            if not replace_final:
                raise FinalReportExists(existing)
            self._archive(existing, path)
        report.updated_at = now_iso()
        atomic_write_text(path, json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return path

    def discard(self, study_key: str) -> bool:
        """Delete a Draft (a Final is kept). Returns whether a file was deleted."""
        existing = self.load(study_key)
        if existing is None or existing.is_final:
            return False
        self.path_for(study_key).unlink(missing_ok=True)
        return True

    def archived_finals(self, study_key: str) -> list[Path]:
        stem = self.path_for(study_key).stem
        return sorted(self.root.glob(f"{stem}.final-*.json"))

    def clean_stale_temp_files(self, older_than_s: float = STALE_TEMP_S) -> int:
        """Remove temp files a crash left behind (they never hold the only copy of anything)."""
        if not self.root.is_dir():
            return 0
        now, removed = time.time(), 0
        for tmp in self.root.glob(f".*{TEMP_SUFFIX}"):
            try:
                if now - tmp.stat().st_mtime > older_than_s:
                    tmp.unlink()
                    removed += 1
            except OSError:
                pass
        return removed

    def _archive(self, final: Report, path: Path) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = path.with_name(f"{path.stem}.final-{stamp}.json")
        n = 1
        while target.exists():
            target = path.with_name(f"{path.stem}.final-{stamp}-{n}.json")
            n += 1
        atomic_write_text(target, json.dumps(final.to_dict(), ensure_ascii=False, indent=2) + "\n")
        log.info("reports: previous final report kept as %s", target.name)


def _same(a: Report, b: Report) -> bool:
    da, db = a.to_dict(), b.to_dict()
    da.pop("updated_at"), db.pop("updated_at")
    return da == db
