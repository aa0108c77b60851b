"""One row per scanned file, and the CSV / JSON Lines files that hold them.

The column list is a stable contract for scripts that read scan results: never reorder it,
only append. Every row is written and flushed as soon as it is known, so a scan that is
killed loses nothing it had finished; :func:`read_existing` lets ``--resume`` carry on.
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

COLUMNS = (
    "path",
    "status",
    "error",
    "label",
    "p_covid",
    "p_pneumonia",
    "p_normal",
    "ood_score",
    "model",
    "patient_id",
    "study_uid",
    "sop_uid",
    "ms",
    "call",
    "confidence",
    "runtime",  # appended: "litert" / "tensorflow", what ran the network ("" when no model ran)
    "device",  # appended: where it ran ("CPU (XNNPACK, 2 threads)", "GPU:0 ...")
)
LEGACY_COLUMNS = COLUMNS[:13]  # results files written before the call, confidence, runtime and device columns
STATUSES = ("ok", "error", "out_of_scope")
# The probability columns the contract holds (label -> column); which of them a scan fills comes from the
# model card's labels (:func:`probability_columns`), never from a list of its own.
PROBABILITY_COLUMNS = {name[len("p_"):]: name for name in COLUMNS if name.startswith("p_")}
_NUMBERS = (*PROBABILITY_COLUMNS.values(), "ood_score", "ms", "confidence")
HEADER_LINE = ",".join(COLUMNS) + "\n"
# Text a spreadsheet would take for a formula (OWASP "CSV injection"): prefixed with ' when written.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Non-UTF-8 bytes of a file name (os.fsdecode gives them as lone surrogates) are written back as
# the same bytes: the name stays exact and --resume recognises it.
ENCODING_ERRORS = "surrogateescape"


def _clean(text: str) -> str:
    """No control characters (NUL, escape sequences...): they corrupt terminals and parsers."""
    return " ".join(_CONTROL.sub(" ", text).split())


def neutralise(text: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ tab or CR gets a ' in front."""
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass(slots=True)  # the GUI keeps every row of a large scan in memory
class ScanResult:
    """What the scan found for one file. ``error`` also carries the reason for ``out_of_scope``."""

    path: str
    status: str
    error: str = ""
    label: str = ""
    p_covid: float | None = None
    p_pneumonia: float | None = None
    p_normal: float | None = None
    ood_score: float | None = None
    model: str = ""
    patient_id: str = ""
    study_uid: str = ""
    sop_uid: str = ""
    ms: float | None = None
    call: str = ""  # the called class or "uncertain" (the card's call rule); empty when not classified
    confidence: float | None = None  # calibrated top probability
    runtime: str = ""
    device: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown scan status {self.status!r}")
        # one physical line per row, so a row torn by a kill is always the last line alone
        for name in ("error", "label", "model", "patient_id", "study_uid", "sop_uid"):
            setattr(self, name, _clean(str(getattr(self, name))))

    def as_row(self) -> dict[str, str]:
        """Text cells for the CSV: empty for unknown, probabilities with 6 decimals, time in ms with 1."""
        row = {}
        for name in COLUMNS:
            value = getattr(self, name)
            if value is None:
                row[name] = ""
            elif name == "ms":
                row[name] = f"{value:.1f}"
            elif isinstance(value, float):
                row[name] = f"{value:.6f}"
            else:
                row[name] = neutralise(str(value))
        return row

    def as_json(self) -> dict:
        data = asdict(self)
        if data["ms"] is not None:
            data["ms"] = round(data["ms"], 1)
        return {name: neutralise(data[name]) if isinstance(data[name], str) else data[name] for name in COLUMNS}

    @classmethod
    def from_row(cls, row: dict[str, str]) -> ScanResult:
        """Back from a CSV row (or a JSON line): empty cells become ``None`` for the numeric columns."""
        kwargs = {}
        for f in fields(cls):
            value = row.get(f.name, "")
            if f.name in _NUMBERS:
                kwargs[f.name] = None if value in ("", None) else float(value)
            else:
                kwargs[f.name] = "" if value is None else str(value)
        return cls(**kwargs)

    @property
    def probabilities(self) -> dict[str, float]:
        return {
            label: getattr(self, col) for label, col in PROBABILITY_COLUMNS.items() if getattr(self, col) is not None
        }


class UnwritableLabelsError(ValueError):
    """A model whose classes the results files have no columns for (the column contract is fixed)."""


def probability_columns(labels) -> dict[str, str]:
    """label -> results column for a model's labels (from its card); refuses labels the contract cannot hold.

    A model with fewer classes leaves the other columns empty; one with a class the files have no column for
    is refused before the scan starts, rather than dropping that class's probability silently.
    """
    labels = tuple(labels)
    missing = [label for label in labels if label not in PROBABILITY_COLUMNS]
    if missing or not labels:
        raise UnwritableLabelsError(
            f"the model's classes ({', '.join(labels) or 'none'}) do not fit the scan results: the files have "
            f"probability columns only for {', '.join(PROBABILITY_COLUMNS)}"
            + (f", none for {', '.join(missing)}" if missing else "")
            + "; use a model with these classes, or classify these films in the viewer"
        )
    return {label: PROBABILITY_COLUMNS[label] for label in labels}


class ResultsFileError(ValueError):
    """An existing results file that ``--resume`` cannot continue (not ours, or a different column set)."""


class _DurableFile:
    """Every write is flushed to the OS at once (a killed process loses nothing); ``fsync`` at most once a
    second and on close, so a power cut loses at most a second of rows without a disk sync per row.
    Rows carry patient IDs and paths, so ``private`` (owner-only 0600) is the default: see
    ``cxviewer.files.privacy.holds_patient_data``."""

    SYNC_EVERY_S = 1.0

    def _open(self, path: Path, mode: str, private: bool, **kwargs):
        if private:  # owner only (0600), also when the file already existed
            kwargs["opener"] = lambda name, flags: os.open(name, flags, 0o600)
        self._fh = open(path, mode, encoding="utf-8", errors=ENCODING_ERRORS, **kwargs)
        if private and hasattr(os, "fchmod"):
            os.fchmod(self._fh.fileno(), 0o600)
        self._last_sync = time.monotonic()

    def _flush(self) -> None:
        self._fh.flush()
        now = time.monotonic()
        if now - self._last_sync >= self.SYNC_EVERY_S:
            os.fsync(self._fh.fileno())
            self._last_sync = now

    def close(self) -> None:
        if not self._fh.closed:
            try:
                self._fh.flush()
                os.fsync(self._fh.fileno())
            finally:
                try:
                    self._fh.close()
                except OSError:  # disk full: the rows that fitted are on disk; --resume cuts a torn tail
                    pass


class CsvResultWriter(_DurableFile):
    """Appends rows to a CSV (header first when new), each flushed as soon as it is written."""

    def __init__(self, path: Path, append: bool = False, private: bool = True):
        self.path = Path(path)
        new = not append or not self.path.exists() or self.path.stat().st_size == 0
        self._open(self.path, "w" if new else "a", private, newline="")
        self._writer = csv.DictWriter(self._fh, fieldnames=COLUMNS, lineterminator="\n")
        if new:
            self._writer.writeheader()
            self._flush()

    def write(self, result: ScanResult) -> None:
        self._writer.writerow(result.as_row())
        self._flush()


class JsonlResultWriter(_DurableFile):
    """Appends one JSON object per line, same fields as the CSV; ``skip`` holds paths already written."""

    def __init__(self, path: Path, append: bool = False, skip: set[str] | None = None, private: bool = True):
        self.path = Path(path)
        self.skip = set(skip or ())
        self._open(self.path, "a" if append else "w", private)

    def write(self, result: ScanResult) -> None:
        if result.path in self.skip:
            return
        line = json.dumps(result.as_json(), ensure_ascii=False)
        if _has_surrogates(line):  # a non-UTF-8 file name: \udcXX escapes keep the line valid UTF-8
            line = json.dumps(result.as_json())
        self._fh.write(line + "\n")
        self._flush()


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _check_ours_csv(path: Path) -> None:
    """Refuse (before anything is changed) a file whose first line is not our CSV header."""
    with open(path, "rb") as fh:
        first = fh.readline(len(HEADER_LINE) + 2)
    if first == (",".join(LEGACY_COLUMNS) + "\n").encode("ascii"):
        raise ResultsFileError(
            f"{path} was written by an older CXViewer (without the call, confidence, runtime and device columns); "
            "it cannot be continued: scan into a new results file"
        )
    if first[: len(HEADER_LINE)] != HEADER_LINE.encode("ascii"):
        raise ResultsFileError(
            f"{path} is not a CXViewer scan results file (its first line is not the results header); "
            "--resume leaves it untouched: give the results CSV of the scan to continue"
        )


def _check_ours_jsonl(path: Path) -> None:
    """Refuse (before anything is changed) a file whose first line is not one of our JSON rows."""
    with open(path, "rb") as fh:
        first = fh.readline(1 << 20)
    try:
        row = json.loads(first.decode("utf-8", ENCODING_ERRORS))
        ours = isinstance(row, dict) and tuple(row) == COLUMNS
    except ValueError:
        ours = False
    if not ours:
        raise ResultsFileError(
            f"{path} is not a CXViewer JSON Lines results file; --resume leaves it untouched"
        )


def _drop_torn_tail(path: Path) -> None:
    """A scan killed in the middle of a write can leave half a line; cut it so appending stays valid."""
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        block = min(size, 1 << 20)
        fh.seek(size - block)
        tail = fh.read(block)
        cut = tail.rfind(b"\n")
        fh.truncate(size - block + cut + 1 if cut >= 0 else 0)


def read_existing_csv(path: Path) -> list[ScanResult]:
    """Rows of a results CSV that a previous (maybe interrupted) scan wrote."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    if not path.is_file():
        raise ResultsFileError(f"{path} is not a regular file; --resume leaves it untouched")
    _check_ours_csv(path)
    _drop_torn_tail(path)
    with open(path, newline="", encoding="utf-8", errors=ENCODING_ERRORS) as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            return []
        if tuple(reader.fieldnames) == LEGACY_COLUMNS:
            raise ResultsFileError(
                f"{path} was written by an older CXViewer (without the call, confidence, runtime and device columns); "
                "it cannot be continued: scan into a new results file"
            )
        if tuple(reader.fieldnames) != COLUMNS:
            raise ResultsFileError(
                f"{path} is not a CXViewer scan results file (its columns are {', '.join(reader.fieldnames)})"
            )
        try:
            return [ScanResult.from_row(row) for row in reader]
        except ValueError as exc:
            raise ResultsFileError(f"{path}: unreadable row ({exc})") from exc


def read_existing_jsonl_paths(path: Path) -> set[str]:
    """Paths already present in a JSON Lines results file."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return set()
    if not path.is_file():
        raise ResultsFileError(f"{path} is not a regular file; --resume leaves it untouched")
    _check_ours_jsonl(path)
    _drop_torn_tail(path)
    done: set[str] = set()
    with open(path, encoding="utf-8", errors=ENCODING_ERRORS) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                done.add(json.loads(line)["path"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ResultsFileError(f"{path} line {n} is not a scan result ({exc})") from exc
    return done
