"""One formatting rule for DICOM values (cxviewer.imaging.dicom_values), and the viewer's corner text, the
study browser and the report writing the same patient the same way."""

from __future__ import annotations

from report_samples import JAPANESE, dicom_copy

from cxviewer.imaging import read_radiograph
from cxviewer.imaging.dicom_values import format_age, format_date, format_person_name, format_sex, format_time, shown

FULL_NAME = "Yamada, Tarou (山田 太郎 / やまだ たろう)"


def test_person_names_with_ideographic_and_phonetic_groups():
    assert format_person_name("YAMADA^TARO=山田^太郎") == "YAMADA, TARO (山田 太郎)"
    assert format_person_name("Yamada^Tarou=山田^太郎=やまだ^たろう") == FULL_NAME
    assert format_person_name("=山田^太郎") == "山田 太郎"  # no alphabetic group
    assert format_person_name("DOE^JOHN^Q^Dr.^Jr.") == "DOE, Dr. JOHN Q Jr."
    assert format_person_name("山田^太郎") == "山田 太郎"
    assert format_person_name("山田太郎") == "山田太郎"
    assert format_person_name("Doe^Archibald") == "Doe, Archibald"
    assert format_person_name("Anonymized") == "Anonymized"
    assert format_person_name("") == "" and format_person_name(None) == ""


def test_dates_times_ages_and_sex():
    assert format_date("19580412") == "1958-04-12" and format_date(" 2024 ") == "2024" and format_date("") == ""
    assert format_date("1993.02.24") == "1993-02-24"  # ACR-NEMA / pre-1993 DA, seen in CR-MONO1-10-chest.dcm
    assert format_time("101500") == "10:15" and format_time("1015") == "10:15"
    assert format_time("101500.123456") == "10:15" and format_time("10:15:00") == "10:15"
    assert format_time("noon") == "noon"
    assert format_age("047Y") == "47 years" and format_age("001Y") == "1 year"
    assert format_age("003M") == "3 months" and format_age("002W") == "2 weeks" and format_age("010D") == "10 days"
    assert format_age("47") == "47" and format_age("") == ""  # not an AS value: shown as it is
    assert format_sex("m") == "Male" and format_sex("F") == "Female" and format_sex("O") == "Other"
    assert format_sex("X") == "X"
    assert shown("\u202e1234") == "\\u202E1234"


def test_the_viewer_the_browser_and_the_report_name_the_patient_alike(tmp_path, qtbot):
    from cxviewer.report import Report
    from cxviewer.ui.viewer.corner_text import corner_texts
    from cxviewer.ui.studies.image_entry import ImageEntry
    from cxviewer.ui.studies.model import StudyModel

    rad = read_radiograph(dicom_copy(tmp_path, PatientAge="066Y", **JAPANESE))
    overlay = corner_texts(rad, 550.0, 1024.0, "Header window 1", 1.0, "", "").get("top_left")
    assert overlay.splitlines()[0] == FULL_NAME
    assert overlay.splitlines()[2] == "1958-04-12 Male 66 years"
    model = StudyModel()
    model.add_entry(ImageEntry.from_radiograph(rad))
    assert model.item(0, 0).text() == f"{FULL_NAME}  (JP-000123)"
    rows = dict(Report.for_radiograph(rad).header.display_rows())
    assert rows["Patient name"] == FULL_NAME
