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
