"""``cxviewer report FILE -o report.pdf``: the headless pipeline, run as a user would (a new process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pdf_readback import all_bytes, read_images, read_text, squash
from report_samples import CHEST, JAPANESE, dicom_copy

REPO = Path(__file__).resolve().parent.parent


def cxviewer(*args: str, home: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["CXVIEWER_HOME"] = str(home)  # and no display: the command must go offscreen by itself
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "cxviewer", "report", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_report_without_model(tmp_path, cxviewer_home):
    src = dicom_copy(tmp_path, **JAPANESE)
    before = src.read_bytes()
    out = tmp_path / "out" / "report.pdf"
    out.parent.mkdir()  # report writes into a folder that exists (it refuses to make one up)
    proc = cxviewer(str(src), "-o", str(out), "--impression", "No active disease. 山田太郎 follow-up.",
                    "--no-ai", "--json", str(tmp_path / "out" / "r.json"), "--institution", "Clinique Zoë",
                    home=cxviewer_home)
    assert proc.returncode == 0, proc.stderr
    text = read_text(out)
    assert squash("No active disease. 山田太郎 follow-up.") in squash(text) and "JP-000123" in text and "Clinique Zoë" in text
    assert squash("Header window 1, centre 550 / width 1024") in squash(text)
    assert "No AI result was available" in text
    assert len([im for im in read_images(out) if im.height > 20]) == 1
    data = json.loads((tmp_path / "out" / "r.json").read_text(encoding="utf-8"))
    assert data["sections"][3]["text"] == "No active disease. 山田太郎 follow-up."
    assert src.read_bytes() == before  # the input is never touched
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["r.json", "report.pdf"]


def test_anonymised_cli_export(tmp_path, cxviewer_home):
    src = dicom_copy(tmp_path, **JAPANESE)
    out = tmp_path / "anon.pdf"
    proc = cxviewer(str(src), "-o", str(out), "--anonymize", "--no-ai", home=cxviewer_home)
    assert proc.returncode == 0, proc.stderr
    blob = all_bytes(out)
    for secret in ("Yamada", "JP-000123", "ACC-98765", "19580412", "1958-04-12", "case.dcm"):
        assert secret not in read_text(out) and secret.encode() not in blob, secret


def test_clear_errors(tmp_path, cxviewer_home):
    bad = tmp_path / "notes.dcm"
    bad.write_text("not an image at all", encoding="utf-8")
    proc = cxviewer(str(bad), "-o", str(tmp_path / "x.pdf"), "--no-ai", home=cxviewer_home)
    assert proc.returncode != 0 and "cxviewer report:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.pdf").exists()
    src = dicom_copy(tmp_path, **JAPANESE)
    proc = cxviewer(str(src), "-o", str(src), "--no-ai", home=cxviewer_home)
    assert proc.returncode != 0 and "input file" in proc.stderr


def test_full_pipeline_with_the_model(tmp_path, cxviewer_home):
    from cxviewer.model import available_models

    if not available_models():
        pytest.skip("no model installed yet (models/ has no card.json with weights)")
    out = tmp_path / "chest.pdf"
    proc = cxviewer(str(CHEST), "-o", str(out), "--impression", "See AI block.", "--json",
                    str(tmp_path / "chest.json"), home=cxviewer_home)
    assert proc.returncode == 0, proc.stderr
    assert "AI leading class" in proc.stdout
    text = read_text(out)
    data = json.loads((tmp_path / "chest.json").read_text(encoding="utf-8"))
    ai = data["ai"]
    assert ai["label"] in ("covid", "pneumonia", "normal")
    assert abs(sum(ai["probabilities"].values()) - 1.0) < 1e-3
    assert f"{ai['model']} {ai['model_version']}" in text
    # a leading class is marked only when the model makes a call (an uncertain film has none, as in the pane)
    assert ("(leading)" in text) == (ai["call"] != "uncertain"), ai["call"]
    assert "Model card summary" in text and "Macro ROC AUC" in text
    keys = [im for im in read_images(out) if im.height > 20]
    assert len(keys) == 2  # the radiograph and the Grad-CAM overlay


def test_ct_slice_gets_no_opinion_in_the_report(tmp_path, cxviewer_home):
    """A file whose header says CT is outside the classifier's scope: the PDF and JSON say so, with no
    probabilities and no overlay, whatever the network would have answered."""
    from cxviewer.model import available_models

    if not available_models():
        pytest.skip("no model installed yet (models/ has no card.json with weights)")
    src = dicom_copy(tmp_path, Modality="CT", name="ct.dcm")
    out = tmp_path / "ct.pdf"
    proc = cxviewer(str(src), "-o", str(out), "--json", str(tmp_path / "ct.json"), home=cxviewer_home)
    assert proc.returncode == 0, proc.stderr
    assert "outside the model's scope" in proc.stdout and "AI leading class" not in proc.stdout
    text = squash(read_text(out))
    assert squash("Outside the model's scope") in text and squash("Modality CT") in text
    assert "(leading)" not in text
    ai = json.loads((tmp_path / "ct.json").read_text(encoding="utf-8"))["ai"]
    assert ai["status"] == "out_of_scope" and ai["probabilities"] == {} and "CT" in ai["scope_reason"]
    assert len([im for im in read_images(out) if im.height > 20]) == 1  # the radiograph, no overlay


def test_a_hip_film_is_not_titled_a_chest_report_and_its_missing_overlay_says_why(tmp_path, cxviewer_home, dicom_dir):
    """The model refuses a hip film by its header: the report is a "Radiograph report" (also the PDF's title), and
    the key images say the overlay is missing because the model gives no opinion outside its scope."""
    from cxviewer.model import available_models

    if not available_models():
        pytest.skip("no classifier installed")
    out = tmp_path / "hip.pdf"
    proc = cxviewer(str(dicom_dir / "RG2_RLE.dcm"), "-o", str(out), home=cxviewer_home)
    assert proc.returncode == 0, proc.stderr
    text = squash(read_text(out))
    assert squash("Radiograph report") in text and squash("Chest radiograph report") not in text
    assert squash("No Grad-CAM overlay: the model gives no opinion on an image outside its scope.") in text
    assert b"/Title (Radiograph report)" in out.read_bytes() or b"Radiograph report" in all_bytes(out)
