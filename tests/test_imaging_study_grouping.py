"""One grouping rule (cxviewer.imaging.study_grouping): patient = Patient ID + issuer, on real files."""

from __future__ import annotations

from report_samples import dicom_copy

from cxviewer.imaging import read_radiograph
from cxviewer.imaging.study_grouping import grouping_keys, patient_key


def test_real_files_group_by_patient_study_and_series(dicom_dir):
    tiny = [read_radiograph(dicom_dir / f"CR_tiny_{i}.dcm") for i in (1, 2, 3)]  # one patient, one study
    keys = [grouping_keys(r) for r in tiny]
    assert len({k[0] for k in keys}) == 1 and len({k[1] for k in keys}) == 1
    assert len({k[2] for k in keys}) == 3  # three series
    assert keys[0][0] == ("id", "", "77654033")
    rg1 = grouping_keys(read_radiograph(dicom_dir / "RG1_UNCR.dcm"))
    rg1_again = grouping_keys(read_radiograph(dicom_dir / "RG1_J2KR.dcm"))  # the same film, another encoding
    rg2 = grouping_keys(read_radiograph(dicom_dir / "RG2_RLE.dcm"))
    assert rg1 == rg1_again
    assert rg1[0] == ("id", "", "9RG1") and rg2[0] == ("id", "", "10RG2") and rg1[1] != rg2[1]


def test_a_study_uid_reused_for_another_patient_does_not_mix_them(dicom_dir, tmp_path):
    source = dicom_dir / "CR_tiny_1.dcm"
    plain = read_radiograph(source)
    other = read_radiograph(dicom_copy(tmp_path, source, "other.dcm", PatientID="SOMEONE-ELSE"))
    assert other.study_uid == plain.study_uid and other.series_uid == plain.series_uid
    assert grouping_keys(other)[1] != grouping_keys(plain)[1] and grouping_keys(other)[2] != grouping_keys(plain)[2]


def test_the_issuer_qualifies_the_id_and_the_name_does_not_split_a_patient(dicom_dir, tmp_path):
    source = dicom_dir / "CR_tiny_1.dcm"
    plain = read_radiograph(source)
    other_issuer = read_radiograph(dicom_copy(tmp_path, source, "a.dcm", IssuerOfPatientID="HOSPITAL-B"))
    assert other_issuer.patient_id == plain.patient_id and other_issuer.patient_issuer == "HOSPITAL-B"
    assert grouping_keys(other_issuer)[0] != grouping_keys(plain)[0]
    respelled = read_radiograph(dicom_copy(tmp_path, source, "b.dcm", PatientName="DOE^ARCHIBALD^J"))
    assert grouping_keys(respelled)[0] == grouping_keys(plain)[0]  # same ID, same issuer: same patient


def test_without_an_id_the_name_groups():
    assert patient_key("", "", "Doe^Jane") == ("name", "Doe^Jane")
    assert patient_key(" P1 ", " ISS ", "x") == ("id", "ISS", "P1")


def test_priors_and_the_browser_share_one_patient_rule():
    from pathlib import Path

    from cxviewer.imaging.priors import StudyRef, find_prior
    from cxviewer.imaging.study_grouping import same_patient

    assert same_patient("P1", "", "P1", "")
    assert not same_patient("P1", "HOSP_A", "P1", "")  # an issuer on one side only: not known to match
    assert not same_patient("", "", "", "")  # no ID: never the same patient, whatever the name
    now = StudyRef(Path("now"), "P1", "HOSP_A", "S2", "20240601", "")
    unqualified = StudyRef(Path("old"), "P1", "", "S1", "20230101", "")
    assert find_prior(now, [unqualified]) is None
