"""Patient data at rest and in exports: owner-only files, the de-identification profile,
redaction of variants, and identifiers that cannot be reordered by invisible characters."""

from __future__ import annotations

import os
import stat

import pytest

from cxviewer import paths
from cxviewer.imaging.dicom_values import shown
from cxviewer.report.content import Report
from cxviewer.report.header import ReportHeader
from cxviewer.report.redaction import redact
from cxviewer.report.drafts import DraftStore
from cxviewer.scan.results import CsvResultWriter, ScanResult

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@posix_only
def test_data_folder_and_its_files_are_the_users_alone(tmp_path):
    old = os.umask(0o022)
    try:
        data = paths.user_data_dir()
        assert _mode(data) == 0o700
        assert _mode(paths.user_models_dir()) == 0o700
        store = DraftStore()
        assert _mode(store.root) == 0o700
        journal = paths.private_dir(data / "scans") / "scan-1.csv"
        assert _mode(journal.parent) == 0o700
        writer = CsvResultWriter(journal, private=True)
        writer.write(ScanResult(path="/x.dcm", status="ok", patient_id="PID-77341A"))
        writer.close()
        assert _mode(journal) == 0o600
        journal.chmod(0o644)  # a journal left readable by an older version is tightened when reopened
        CsvResultWriter(journal, append=True, private=True).close()
        assert _mode(journal) == 0o600
    finally:
        os.umask(old)


def _report() -> Report:
    header = ReportHeader(patient_name="DOE^JANE", patient_id="PID-77341A", birth_date="19340517", sex="F",
                          accession_number="ACC-1", study_date="20240131", study_time="101500",
                          study_description="CHEST PA for Jane Doe", series_description="PA")
    report = Report(study_key="k", header=header)
    report.sections["findings"] = ("Compared with pid77341a and PID 77341 A. Born 17/05/1934 (17 May 1934, "
                                   "5/17/1934). Study of 31.01.2024. Clear lungs.")
    return report


def test_anonymised_export_follows_the_basic_profile():
    anon = _report().anonymised()
    h = anon.header
    for name in ("patient_name", "patient_id", "birth_date", "sex", "accession_number", "study_date",
                 "study_time", "study_description", "series_description", "study_uid", "source_name"):
        assert getattr(h, name) == "", name
    text = anon.sections["findings"]
    for leaked in ("77341", "1934", "2024", "Doe", "DOE"):
        assert leaked not in text, (leaked, text)
    assert "Clear lungs." in text
    assert dict(h.display_rows(anonymise=True))["Study date"] == "anonymised"


def test_keep_dates_option_keeps_the_dates_only():
    anon = _report().anonymised(keep_dates=True)
    assert anon.header.study_date == "20240131" and anon.header.study_time == "101500"
    assert anon.header.patient_id == "" and anon.header.birth_date == ""
    assert "31.01.2024" in anon.sections["findings"] and "1934" not in anon.sections["findings"]
    assert dict(anon.header.display_rows(anonymise=True, keep_dates=True))["Study date"] == "2024-01-31 10:15"


def test_redaction_ignores_case_and_punctuation():
    assert redact("ids: PID77341A, pid-77341-a, P.I.D 77341a; other 77341", ["PID-77341A"]) == (
        "ids: [redacted], [redacted], [redacted]; other 77341"
    )


def test_identifiers_are_drawn_with_format_characters_escaped():
    assert shown("\u202e1234") == "\\u202E1234"
    assert shown("ab\u2066cd\u2069\x00") == "ab\\u2066cd\\u2069\\u0000"
    assert shown("山田 Éloi") == "山田 Éloi"  # ordinary letters stay as they are
    rows = dict(ReportHeader(patient_id="\u202e1234", patient_name="X^\u200fY").display_rows())
    assert rows["Patient ID"] == "\\u202E1234"
    assert "\u200f" not in rows["Patient name"]


@posix_only
@pytest.mark.parametrize("anonymise, mode", [(False, 0o600), (True, 0o600)])
def test_report_exports_are_owner_only_even_anonymised(anonymise, mode, qapp, tmp_path, umask_022):
    """A named report (PDF and JSON) holds patient data: 0600; so does an anonymised one (its PDF shows the film, whose
    burned-in text the Basic Profile does not clean, and both carry the reader's free text)."""
    from cxviewer.imaging import read_radiograph, render_display
    from cxviewer.report.json_export import write_report_json
    from cxviewer.report.pdf import render_report_pdf
    from cxviewer.report.pdf_options import PdfOptions
    from report_samples import dicom_copy

    rad = read_radiograph(dicom_copy(tmp_path, PatientName="DOE^JANE", PatientID="PID-77341A"))
    report = Report.for_radiograph(rad)
    assert report.header.patient_id == "PID-77341A"
    pdf = render_report_pdf(tmp_path / "out" / "r.pdf", report, render_display(rad),
                            options=PdfOptions(anonymise=anonymise))
    json_file = write_report_json(report, tmp_path / "out" / "r.json", anonymise=anonymise)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert ("PID-77341A" in json_file.read_text(encoding="utf-8")) is not anonymise
    assert (_mode(pdf), _mode(json_file)) == (mode, mode)
    if not anonymise:  # replacing a file left 0644 by an older version tightens it
        json_file.chmod(0o644)
        write_report_json(report, json_file)
        assert _mode(json_file) == 0o600


@posix_only
def test_scan_results_and_saved_tables_are_owner_only(tmp_path, umask_022):
    """A real scan of two films writes its CSV and JSON Lines 0600 (patient IDs and paths), also on resume."""
    import shutil

    from cxviewer.cli import main
    from scan_corpus import DICOM

    films = [DICOM / "CR_tiny_1.dcm", DICOM / "CR_tiny_2.dcm"]
    if not all(f.is_file() for f in films):
        pytest.skip(f"shared test data not found under {DICOM}")
    src = tmp_path / "films"
    src.mkdir()
    for f in films:
        shutil.copy(f, src / f.name)
    out, jsonl = tmp_path / "out" / "r.csv", tmp_path / "out" / "r.jsonl"
    assert main(["scan", str(src), "-o", str(out), "--jsonl", str(jsonl), "--no-model"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3  # header + two films
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == 2
    assert (_mode(out), _mode(jsonl)) == (0o600, 0o600)

    out.chmod(0o644)
    jsonl.chmod(0o644)
    assert main(["scan", str(src), "-o", str(out), "--jsonl", str(jsonl), "--no-model", "--resume"]) == 0
    assert (_mode(out), _mode(jsonl)) == (0o600, 0o600)


@posix_only
def test_saved_results_table_is_owner_only(qapp, tmp_path, umask_022):
    from cxviewer.ui.scan.results_table import ScanResultsView

    table = ScanResultsView()
    table.add_result(ScanResult(path="/x.dcm", status="ok", patient_id="PID-77341A"))
    target = tmp_path / "saved.csv"
    assert table.export_csv(target) == 1
    assert "PID-77341A" in target.read_text(encoding="utf-8")
    assert _mode(target) == 0o600


@posix_only
def test_pacs_store_tightens_an_existing_study_folder_but_not_the_folder_the_user_named(tmp_path):
    """Received objects go into owner-only study folders, also when one was there before (made 0755); the folder the
    user named (``pacs get --out``, perhaps shared) keeps its mode: the files and study folders in it are private."""
    from cxviewer.pacs.storage import ObjectStore
    from report_samples import dicom_copy

    folder = tmp_path / "received"
    (folder / "1.2.3").mkdir(parents=True, mode=0o755)
    os.chmod(folder, 0o755)
    os.chmod(folder / "1.2.3", 0o755)
    store = ObjectStore(folder)
    path = store.save(dicom_copy(tmp_path).read_bytes(), "1.2.3", "1.2.3.4")
    assert (_mode(folder), _mode(path.parent), _mode(path)) == (0o755, 0o700, 0o600)


def test_the_referring_physicians_name_is_redacted_from_the_text_as_well_as_the_header():
    """The header row is blanked when anonymised; the reader's text that names the referrer must not keep it."""
    header = ReportHeader(patient_name="DOE^JANE", patient_id="PID-77341A", referring_physician="SMITH^JOHN")
    report = Report(study_key="k", header=header)
    report.sections["clinical_indication"] = "Referred by Dr John Smith (SMITH^JOHN) for Jane Doe. Cough."
    anon = report.anonymised()
    text = anon.sections["clinical_indication"]
    for leaked in ("Smith", "SMITH", "John", "JOHN", "Jane", "Doe"):
        assert leaked not in text, (leaked, text)
    assert "Cough." in text and anon.header.referring_physician == ""
