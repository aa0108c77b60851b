"""Open the result files of a scan: new ones, or the ones an interrupted scan left (``--resume``).

Resuming never rewrites a finished row: it reads which paths are done, cuts a half-written last
line if the previous run was killed mid-write, and appends. A JSON Lines file that lags behind
the CSV (killed between the two writes) is first topped up from the CSV so both hold every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cxviewer.files.privacy import holds_patient_data
from cxviewer.scan.results import (
    CsvResultWriter,
    JsonlResultWriter,
    ResultsFileError,
    ScanResult,
    read_existing_csv,
    read_existing_jsonl_paths,
)


@dataclass
class ResultsSink:
    """Where rows go: the CSV (always) and the JSON Lines file (optional); ``done`` = paths already there."""

    csv: CsvResultWriter
    jsonl: JsonlResultWriter | None = None
    done: set[str] = field(default_factory=set)

    def write(self, result: ScanResult) -> None:
        self.csv.write(result)
        if self.jsonl is not None:
            self.jsonl.write(result)

    def close(self) -> None:
        self.csv.close()
        if self.jsonl is not None:
            self.jsonl.close()


def _has_content(path: Path | None) -> bool:
    return path is not None and path.exists() and path.stat().st_size > 0


def open_results(
    output: Path, jsonl: Path | None = None, *, resume: bool = False, overwrite: bool = False, model_tag: str = ""
) -> ResultsSink:
    """Create (or, with ``resume``, continue) the result files; raises ``ResultsFileError`` with advice."""
    output = Path(output)
    jsonl = Path(jsonl) if jsonl is not None else None
    if jsonl is not None and jsonl.resolve() == output.resolve():
        raise ResultsFileError("the CSV and the JSON Lines output must be different files")
    if not resume and not overwrite:
        for p in (output, jsonl):
            if _has_content(p):
                raise ResultsFileError(
                    f"{p} already exists; use --resume to continue that scan or --overwrite to replace it"
                )
    rows: list[ScanResult] = read_existing_csv(output) if resume else []
    if rows:
        made_with = {r.model for r in rows if r.status == "ok"}
        if made_with - {model_tag}:
            old = ", ".join(sorted(m or "no model" for m in made_with))
            raise ResultsFileError(
                f"{output} was made with {old}, this scan uses {model_tag or 'no model'}; "
                "resume with the same model or write to a new file"
            )
    for p in (output, jsonl):
        if p is not None:
            p.parent.mkdir(parents=True, exist_ok=True)
    sink = ResultsSink(csv=CsvResultWriter(output, append=resume, private=holds_patient_data()), done={r.path for r in rows})
    if jsonl is not None:
        in_jsonl = read_existing_jsonl_paths(jsonl) if resume else set()
        sink.jsonl = JsonlResultWriter(jsonl, append=resume, skip=in_jsonl,
                                        private=holds_patient_data())
        for row in rows:  # top up a JSON Lines file that lags behind the CSV
            sink.jsonl.write(row)
    return sink
