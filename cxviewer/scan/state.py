"""What a scan is asked (options), where it stands (progress) and what it did (summary); shared by both engines."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Collection
from contextlib import contextmanager
from dataclasses import dataclass, field

DEFAULT_BATCH_SIZE = 16


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class ScanOptions:
    recursive: bool = True
    workers: int = field(default_factory=default_workers)
    batch_size: int = DEFAULT_BATCH_SIZE
    max_files: int | None = None  # stop after this many new files (a trial run; simulated interruptions)
    skip: Collection[str] = ()  # paths already in the results (``--resume``)


@dataclass
class ScanProgress:
    """Where a running scan stands; ``total`` (all files under the roots) is ``None`` until counted."""

    started: float = field(default_factory=time.monotonic)
    ok: int = 0
    errors: int = 0
    out_of_scope: int = 0
    ignored: int = 0  # files that are not images
    already_done: int = 0  # skipped because a previous run has them (``--resume``)
    total: int | None = None

    @property
    def scanned(self) -> int:
        return self.ok + self.errors + self.out_of_scope

    @property
    def examined(self) -> int:
        return self.scanned + self.ignored + self.already_done

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Files scanned per second."""
        t = self.elapsed_s
        return self.scanned / t if t > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.total is None or self.rate <= 0:
            return None
        return max(0, self.total - self.examined) / self.rate


class StageClock:
    """Seconds spent per stage (discovery, decode, inference, writing), summed over every thread or worker."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextmanager
    def timing(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)


@dataclass
class ScanSummary:
    ok: int
    errors: int
    out_of_scope: int
    ignored: int
    already_done: int
    elapsed_s: float
    cancelled: bool
    skipped_dirs: list[str]
    model: str
    stage_s: dict[str, float] = field(default_factory=dict)  # StageClock.seconds: where the time went
    engine: str = "local"  # "local" or "ray (N workers)"

    @classmethod
    def of_run(cls, progress, discovery, inference, clock, cancelled: bool, engine: str = "local") -> ScanSummary:
        """The summary of a finished run, from what the run kept (the local and the Ray engine alike)."""
        return cls(
            ok=progress.ok,
            errors=progress.errors,
            out_of_scope=progress.out_of_scope,
            ignored=discovery.ignored,
            already_done=progress.already_done,
            elapsed_s=progress.elapsed_s,
            cancelled=cancelled,
            skipped_dirs=list(discovery.skipped_dirs),
            model=inference.tag if inference else "",
            stage_s=dict(clock.seconds),
            engine=engine,
        )

    @property
    def scanned(self) -> int:
        return self.ok + self.errors + self.out_of_scope

    def text(self) -> str:
        parts = [
            (
                f"{self.scanned} file(s) scanned in {self.elapsed_s:.1f} s: {self.ok} ok, {self.errors} error(s), "
                f"{self.out_of_scope} out of scope"
            )
        ]
        if self.already_done:
            parts.append(f"{self.already_done} already in the results (resumed)")
        if self.ignored:
            parts.append(f"{self.ignored} other file(s) ignored (not images)")
        if self.skipped_dirs:
            parts.append(f"{len(self.skipped_dirs)} folder(s) not entered")
        if not self.model:
            parts.append("no model: images were checked, not classified")
        if self.cancelled:
            parts.append("CANCELLED before the end")
        return "; ".join(parts)

    def stages_text(self) -> str:
        """One line: seconds per stage (decode and inference summed over workers, so they can exceed the wall time)."""
        if not self.stage_s:
            return ""
        cells = ", ".join(f"{name} {s:.1f} s" for name, s in self.stage_s.items())
        return f"stages ({self.engine}, summed over workers): {cells}"
