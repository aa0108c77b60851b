"""Result files: the column contract, row-by-row writing, and what --resume reads back."""

from __future__ import annotations

import csv
import json

import pytest

from cxviewer.scan.results import (
    PROBABILITY_COLUMNS,
    UnwritableLabelsError,
    probability_columns,
    COLUMNS,
    CsvResultWriter,
    ResultsFileError,
    ScanResult,
    read_existing_csv,
    read_existing_jsonl_paths,
)
from cxviewer.scan.resume import open_results


def _ok(path: str) -> ScanResult:
    return ScanResult(
        path=path, status="ok", label="normal", p_covid=0.1, p_pneumonia=0.2, p_normal=0.7, model="m@1",
        patient_id="P1", study_uid="1.2.3", sop_uid="1.2.3.4", ms=12.34,
    )


def test_column_contract_is_exact():
    assert COLUMNS == (
        "path", "status", "error", "label", "p_covid", "p_pneumonia", "p_normal", "ood_score", "model",
        "patient_id", "study_uid", "sop_uid", "ms", "call", "confidence", "runtime", "device",
    )
    with pytest.raises(ValueError):
        ScanResult(path="x", status="maybe")


def test_a_file_from_before_the_runtime_columns_is_not_resumed_but_explained(tmp_path):
    old = tmp_path / "old.csv"
    old.write_text(",".join(COLUMNS[:13]) + "\n/a/1.dcm,ok,,normal,0.1,0.2,0.7,,m@1,,,,12.3\n", encoding="utf-8")
    with pytest.raises(ResultsFileError, match="older CXViewer"):
        read_existing_csv(old)


def test_rows_are_on_disk_as_soon_as_written(tmp_path):
    out = tmp_path / "r.csv"
    w = CsvResultWriter(out)
    w.write(_ok("/a/1.dcm"))
    # read while the writer is still open: the row is already in the file
    rows = list(csv.DictReader(out.open(newline="")))
    assert [r["path"] for r in rows] == ["/a/1.dcm"]
    assert rows[0]["p_normal"] == "0.700000" and rows[0]["ood_score"] == "" and rows[0]["ms"] == "12.3"
    w.write(ScanResult(path="/a/2, with comma.dcm", status="error", error='bad "quote"\nsecond line'))
    w.close()
    back = read_existing_csv(out)
    assert [r.path for r in back] == ["/a/1.dcm", "/a/2, with comma.dcm"]
    assert back[1].error == 'bad "quote" second line' and back[1].p_covid is None  # one line per row
    assert back[0].p_normal == pytest.approx(0.7)


def test_torn_last_line_is_cut_before_appending(tmp_path):
    out = tmp_path / "r.csv"
    w = CsvResultWriter(out)
    w.write(_ok("/a/1.dcm"))
    w.write(_ok("/a/2.dcm"))
    w.close()
    whole = out.read_bytes()
    out.write_bytes(whole[:-20])  # a kill in the middle of the second row
    rows = read_existing_csv(out)
    assert [r.path for r in rows] == ["/a/1.dcm"]
    assert out.read_bytes() == whole[: whole.index(b"/a/2.dcm")]  # the first row is untouched


def test_foreign_csv_is_not_resumed(tmp_path):
    out = tmp_path / "other.csv"
    out.write_text("name,value\nx,1\n")
    with pytest.raises(ResultsFileError, match="not a CXViewer scan results file"):
        read_existing_csv(out)


def test_existing_results_need_resume_or_overwrite(tmp_path):
    out = tmp_path / "r.csv"
    sink = open_results(out)
    sink.write(_ok("/a/1.dcm"))
    sink.close()
    with pytest.raises(ResultsFileError, match="--resume"):
        open_results(out)
    sink = open_results(out, overwrite=True)
    sink.close()
    assert read_existing_csv(out) == []


def test_resume_appends_and_tops_up_jsonl(tmp_path):
    out, js = tmp_path / "r.csv", tmp_path / "r.jsonl"
    sink = open_results(out, js, model_tag="m@1")
    sink.write(_ok("/a/1.dcm"))
    sink.csv.write(_ok("/a/2.dcm"))  # killed after the CSV row, before the JSON line
    sink.close()
    before = out.read_bytes()
    sink = open_results(out, js, resume=True, model_tag="m@1")
    assert sink.done == {"/a/1.dcm", "/a/2.dcm"}
    sink.write(_ok("/a/3.dcm"))
    sink.close()
    assert out.read_bytes().startswith(before)  # nothing already written was rewritten
    lines = [json.loads(line) for line in js.read_text().splitlines()]
    assert [d["path"] for d in lines] == ["/a/1.dcm", "/a/2.dcm", "/a/3.dcm"]
    assert list(lines[0]) == list(COLUMNS)
    assert read_existing_jsonl_paths(js) == {"/a/1.dcm", "/a/2.dcm", "/a/3.dcm"}


def test_resume_refuses_a_different_model(tmp_path):
    out = tmp_path / "r.csv"
    sink = open_results(out, model_tag="m@1")
    sink.write(_ok("/a/1.dcm"))
    sink.close()
    with pytest.raises(ResultsFileError, match="same model"):
        open_results(out, resume=True, model_tag="m@2")
    with pytest.raises(ResultsFileError, match="same model"):
        open_results(out, resume=True, model_tag="")


def test_probability_columns_come_from_the_card_labels():
    assert probability_columns(("covid", "pneumonia", "normal")) == PROBABILITY_COLUMNS
    assert probability_columns(("normal", "covid")) == {"normal": "p_normal", "covid": "p_covid"}  # fewer: rest empty
    with pytest.raises(UnwritableLabelsError, match="none for tuberculosis"):
        probability_columns(("covid", "tuberculosis", "normal"))


def test_scan_refuses_a_model_whose_labels_it_cannot_write(tmp_path, capsys):
    """A card with a class the results have no column for is refused before any file is read."""
    import json

    from cxviewer.cli import main
    from cxviewer.model.registry import default_model_dir

    source = default_model_dir()
    model = tmp_path / "other-labels"
    model.mkdir()
    for item in source.iterdir():
        (model / item.name).symlink_to(item)
    card = json.loads((source / "card.json").read_text())
    card["labels"] = ["covid", "tuberculosis", "normal"]
    rule = card["calibration"]["call"]
    if isinstance(rule["min_probability"], dict):  # a per-class rule follows the card's labels
        rule["min_probability"] = dict(zip(card["labels"], rule["min_probability"].values()))
    (model / "card.json").unlink()
    (model / "card.json").write_text(json.dumps(card))
    films = tmp_path / "films"
    films.mkdir()
    out = tmp_path / "out" / "results.csv"

    code = main(["scan", str(films), "-o", str(out), "--model", str(model)])

    assert code == 2
    assert "tuberculosis" in capsys.readouterr().err
    assert not out.exists()
