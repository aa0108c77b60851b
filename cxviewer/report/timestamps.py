"""The time stamps of reports: now, local, ISO 8601 with offset, to the second."""

from __future__ import annotations

from datetime import datetime, timezone

def now_iso() -> str:
    """Current local time, ISO 8601 with offset, to the second."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
