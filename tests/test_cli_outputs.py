"""Where the commands write, and what they say when they cannot: predict --json on failure, report's
all-or-nothing outputs, one shared check of output targets, scan's leftovers, export's window."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from cxviewer.cli import main
from cxviewer.files.output_targets import output_problem

MODELS = Path(__file__).resolve().parent.parent / "models"


@pytest.fixture
def film(dicom_dir: Path) -> Path:
    path = dicom_dir / "CR_tiny_1.dcm"
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    return path


@pytest.fixture
def needs_model():
    from cxviewer.model import available_models

    if not available_models():
        pytest.skip("no model installed (models/ has no card.json with weights)")


def _json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# ---- the shared check -------------------------------------------------------------------------


def test_output_problem(tmp_path):
    src = tmp_path / "in.dcm"
    src.write_bytes(b"x")
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("x")
    assert output_problem(src, [tmp_path / "a.pdf", tmp_path / "a.json"]) is None
    assert output_problem(None, [tmp_path / "a.pdf"]) is None
    assert "input file" in output_problem(src, [src])
    assert "input file" in output_problem(src, [tmp_path / "folder" / ".." / "in.dcm"])
    assert "input file" in output_problem(src, [src / "inside.pdf"])
    assert "is a folder" in output_problem(src, [tmp_path / "folder"])
    assert "does not exist" in output_problem(src, [tmp_path / "nodir" / "sub" / "r.pdf"])
    assert "not a folder" in output_problem(src, [tmp_path / "afile" / "r.json"])
    assert "same file" in output_problem(src, [tmp_path / "r.pdf", tmp_path / "folder" / ".." / "r.pdf"])
    (tmp_path / "old.pdf").write_bytes(b"%PDF")
    os.link(tmp_path / "old.pdf", tmp_path / "hard.pdf")
    assert "same file" in output_problem(src, [tmp_path / "old.pdf", tmp_path / "hard.pdf"])
    (tmp_path / "link.pdf").symlink_to(tmp_path / "new.pdf")  # a dangling link to the other output
    assert "same file" in output_problem(src, [tmp_path / "new.pdf", tmp_path / "link.pdf"])


# ---- predict ----------------------------------------------------------------------------------


def test_predict_json_reports_an_unreadable_file_once(tmp_path, capsys):
    empty = tmp_path / "x.dcm"
    empty.write_bytes(b"")
    assert main(["predict", str(empty), "--json"]) == 1
    out, err = capsys.readouterr()
    [obj] = _json_lines(out)
    assert obj["file"] == str(empty) and obj["status"] == "error" and "empty" in obj["error"]
    assert err.startswith("cxviewer predict: ") and obj["error"] in err
    assert err.count("x.dcm") == 1  # not "x.dcm: x.dcm: The file is empty"


def test_predict_without_json_prints_no_json_on_failure(tmp_path, capsys):
    empty = tmp_path / "x.dcm"
    empty.write_bytes(b"")
    assert main(["predict", str(empty)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "cxviewer predict:" in err


def test_predict_json_reports_a_missing_model(film, tmp_path, capsys):
    assert main(["predict", str(film), "--json", "--model", str(tmp_path / "no-model")]) == 1
    out, err = capsys.readouterr()
    [obj] = _json_lines(out)
    assert obj["status"] == "error" and obj["file"] == str(film) and obj["error"] in err


def test_predict_reports_a_corrupt_model_without_a_traceback(film, tmp_path, capsys):
    card = MODELS / "cxnet-densenet121" / "card.json"
    if not card.is_file():
        pytest.skip("models/cxnet-densenet121 is not here")
    bad = tmp_path / "bad-model"
    bad.mkdir()
    shutil.copy(card, bad / "card.json")
    for name in ("model.tflite", "weights.weights.h5"):
        (bad / name).write_bytes(b"not a model at all")
    assert main(["predict", str(film), "--json", "--model", str(bad)]) == 1
    out, err = capsys.readouterr()
    [obj] = _json_lines(out)
    assert obj["status"] == "error" and "model" in obj["error"] and "Flatbuffer" in obj["error"]
    assert "Traceback" not in err and f"cxviewer predict: {obj['error']}" in err


@pytest.mark.parametrize("error", [ValueError("bad HDF5 file signature"), RuntimeError("")])
def test_predict_reports_any_model_load_error(film, monkeypatch, capsys, error):
    import cxviewer.model

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(cxviewer.model, "load_classifier", broken)
    assert main(["predict", str(film), "--json"]) == 1
    out, err = capsys.readouterr()
    [obj] = _json_lines(out)
    assert obj["status"] == "error" and obj["error"].startswith("cannot load the model: ")
    assert (str(error) or "RuntimeError") in obj["error"] and f"cxviewer predict: {obj['error']}" in err


def test_predict_reports_a_prediction_error(film, needs_model, monkeypatch, capsys):
    from cxviewer.model.classifier import Classifier

    def broken(self, *args, **kwargs):
        raise RuntimeError("tensor shape mismatch")

    monkeypatch.setattr(Classifier, "predict_radiograph", broken)
    assert main(["predict", str(film), "--json"]) == 1
    out, err = capsys.readouterr()
    [obj] = _json_lines(out)
    assert obj["status"] == "error" and "tensor shape mismatch" in obj["error"]
    assert "cxviewer predict:" in err and "tensor shape mismatch" in err


def test_predict_sr_write_failure_is_json_and_names_the_target(film, needs_model, tmp_path, monkeypatch, capsys):
    import cxviewer.pacs.sr as sr

    def full_disk(result, header, out):
        raise OSError(errno.ENOSPC, "No space left on device", str(out.parent / ".sr.dcm.abc123.tmp"))

    monkeypatch.setattr(sr, "write_sr", full_disk)
    target = tmp_path / "sr.dcm"
    assert main(["predict", str(film), "--json", "--sr", str(target)]) == 1
    out, err = capsys.readouterr()
    [obj] = _json_lines(out)
    assert obj["status"] == "error" and str(target) in obj["error"] and "No space left" in obj["error"]
    assert ".tmp" not in err


@pytest.mark.parametrize("where", ["missing/sr.dcm", "afile/sr.dcm"])
def test_predict_sr_refuses_a_missing_folder_with_json(film, tmp_path, capsys, where):
    (tmp_path / "afile").write_text("x")
    assert main(["predict", str(film), "--json", "--sr", str(tmp_path / where)]) == 2
    out, err = capsys.readouterr()
    [obj] = _json_lines(out)
    assert obj["status"] == "error" and "cxviewer predict: --sr" in err
    assert not (tmp_path / "missing").exists()


# ---- report (the tests that render a PDF take ``qapp``: a QApplication first, as the widget tests need) --


def test_report_reports_an_unreadable_file_once(tmp_path, capsys):
    empty = tmp_path / "x.dcm"
    empty.write_bytes(b"")
    assert main(["report", str(empty), "-o", str(tmp_path / "r.pdf"), "--no-ai"]) == 1
    err = capsys.readouterr().err
    assert "cxviewer report:" in err and "empty" in err and err.count("x.dcm") == 1


def test_report_writes_all_outputs_private(film, qapp, tmp_path, capsys):
    from cxviewer.pacs.report_document import pdf_from_document

    pdf, js, dcm = tmp_path / "r.pdf", tmp_path / "r.json", tmp_path / "r.dcm"
    assert main(["report", str(film), "-o", str(pdf), "--json", str(js), "--dicom", str(dcm), "--no-ai"]) == 0
    assert f"wrote {pdf} and {js} and {dcm}" in capsys.readouterr().out
    assert pdf.read_bytes().startswith(b"%PDF") and json.loads(js.read_text(encoding="utf-8"))["schema"]
    assert pdf_from_document(dcm) == pdf.read_bytes()  # the DICOM holds the very PDF written
    for path in (pdf, js, dcm):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.dcm", "r.json", "r.pdf"]  # no temp files left


def test_report_json_in_a_folder_under_a_file_leaves_no_pdf(film, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(film), "-o", str(pdf), "--json", str(tmp_path / "afile" / "r.json"), "--no-ai"]) != 0
    assert "cxviewer report:" in capsys.readouterr().err
    assert not pdf.exists()


def test_report_outputs_are_all_or_nothing(film, qapp, tmp_path, monkeypatch, capsys):
    import cxviewer.report

    def refused(report, path, **kwargs):
        Path(path).write_text("half")  # the writer got as far as its file, then failed
        raise OSError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(cxviewer.report, "write_report_json", refused)
    pdf, js, dcm = tmp_path / "r.pdf", tmp_path / "r.json", tmp_path / "r.dcm"
    (tmp_path / "old.pdf").write_bytes(b"old")
    assert main(["report", str(film), "-o", str(pdf), "--json", str(js), "--dicom", str(dcm), "--no-ai"]) == 1
    err = capsys.readouterr().err
    assert f"cxviewer report: cannot write {js}: Permission denied" in err
    assert ".tmp" not in err  # names the user's file, not the hidden temp file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.pdf"]  # nothing written, no temp left


def test_report_failure_keeps_an_existing_output(film, qapp, tmp_path, monkeypatch, capsys):
    import cxviewer.report

    def refused(report, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(cxviewer.report, "write_report_json", refused)
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF earlier report")
    assert main(["report", str(film), "-o", str(pdf), "--json", str(tmp_path / "r.json"), "--no-ai"]) == 1
    assert pdf.read_bytes() == b"%PDF earlier report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf"]


@pytest.mark.parametrize("extra", [
    ["--json", "r5.pdf"],
    ["--dicom", "r5.pdf"],
    ["--json", "r5.json", "--dicom", "r5.json"],
    ["--json", "sub/../r5.pdf"],
])
def test_report_refuses_two_outputs_in_one_file(film, tmp_path, capsys, extra):
    (tmp_path / "sub").mkdir()
    args = [str(tmp_path / a) if a.startswith(("r5", "sub")) else a for a in extra]
    assert main(["report", str(film), "-o", str(tmp_path / "r5.pdf"), *args, "--no-ai"]) == 2
    assert "same file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_report_refuses_a_missing_folder(film, tmp_path, capsys):
    out = tmp_path / "nodir" / "sub" / "r.pdf"
    assert main(["report", str(film), "-o", str(out), "--no-ai"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cxviewer report: ") and "does not exist" in err
    assert not (tmp_path / "nodir").exists()


def test_report_refuses_a_missing_json_folder_before_writing(film, tmp_path, capsys):
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(film), "-o", str(pdf), "--json", str(tmp_path / "ro" / "r.json"), "--no-ai"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cxviewer report: ") and "does not exist" in err
    assert not pdf.exists() and not (tmp_path / "ro").exists()


def test_report_refuses_onto_the_input(tmp_path, film, capsys):
    src = tmp_path / "film.dcm"
    shutil.copy(film, src)
    before = src.read_bytes()
    assert main(["report", str(src), "-o", str(tmp_path / "r.pdf"), "--json", str(src), "--no-ai"]) == 2
    assert "input file" in capsys.readouterr().err
    assert src.read_bytes() == before and not (tmp_path / "r.pdf").exists()


# ---- export -----------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [("nan", "10"), ("100", "inf"), ("inf", "10"), ("100", "nan")])
def test_export_refuses_a_non_finite_window(film, tmp_path, capsys, window):
    out = tmp_path / "out.png"
    assert main(["export", str(film), "-o", str(out), "--window", *window]) == 2
    err = capsys.readouterr().err
    assert "cxviewer export:" in err and "finite" in err
    assert not out.exists()


def test_export_uses_the_shared_output_check(film, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert main(["export", str(film), "-o", str(tmp_path / "afile" / "o.png")]) == 2
    assert "cxviewer export:" in capsys.readouterr().err
    assert main(["export", str(film), "-o", str(tmp_path / "o.jpg")]) == 2
    assert "must be a .png file" in capsys.readouterr().err


# ---- scan -------------------------------------------------------------------------------------


def test_scan_of_nothing_leaves_no_result_files(film, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    csv, jsonl = tmp_path / "e1.csv", tmp_path / "e1.jsonl"
    assert main(["scan", str(empty), "-o", str(csv), "--jsonl", str(jsonl), "--no-model"]) == 1
    out, err = capsys.readouterr()
    assert "nothing could be scanned" in err and "results:" not in out
    assert not csv.exists() and not jsonl.exists()
    films = tmp_path / "films"
    films.mkdir()
    shutil.copy(film, films / film.name)
    assert main(["scan", str(films), "-o", str(csv), "--jsonl", str(jsonl), "--no-model"]) == 0  # not "already exists"
    assert f"results: {csv} and {jsonl}" in capsys.readouterr().out
    assert csv.is_file() and jsonl.is_file()


def test_scan_of_nothing_keeps_files_that_were_there(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    csv, jsonl = tmp_path / "e2.csv", tmp_path / "e2.jsonl"
    csv.write_text("")  # an empty file the user made: not this run's to remove
    assert main(["scan", str(empty), "-o", str(csv), "--jsonl", str(jsonl), "--no-model"]) == 1
    out = capsys.readouterr().out
    assert csv.exists() and not jsonl.exists()
    assert f"results: {csv}" in out and str(jsonl) not in out
