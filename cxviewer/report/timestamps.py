"""The time stamps of reports: now, local, ISO 8601 with offset, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """Current local time, ISO 8601 with offset, to the second."""
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")
