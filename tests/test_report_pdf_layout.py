"""The PDF's reading order (issue 19 item 8): the Impression on page 1 whatever the length of the
Findings, the AI's text printed once, the referring physician and a signature line.

The prediction is renderer *input* (a Prediction value), not a model result; the real model runs in
test_report_cli. The pages are also rendered to PNG with pdftoppm when CXVIEWER_SCREENSHOTS is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from pdf_readback import read_text, squash
from pypdf import PdfReader
from report_samples import JAPANESE, dicom_copy, edge_energy_map

from cxviewer.imaging import read_radiograph, render_display
from cxviewer.model import Prediction
from cxviewer.report import Report
from cxviewer.report.pdf import render_report_pdf
from cxviewer.report.pdf_options import PdfOptions

SHOTS = os.environ.get("CXVIEWER_SCREENSHOTS")
PREDICTION_INPUT = Prediction(labels=("covid", "pneumonia", "normal"), probabilities=(0.12, 0.71, 0.17),
                              model_name="cxnet-densenet121", model_version="1.0.0", elapsed_ms=812.4,
                              device="CPU")
IMPRESSION = "Right lower lobe pneumonia is likely."


def _pages(path) -> list[str]:
    return [squash(p.extract_text() or "") for p in PdfReader(str(path)).pages]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("layout")
    rad = read_radiograph(dicom_copy(tmp, ReferringPhysicianName="Okada^Kenji", **JAPANESE))
    image = render_display(rad)
    return {"rad": rad, "image": image, "heatmap": edge_energy_map(image), "tmp": tmp}


def _report(case, findings: str, final: bool = False) -> Report:
    report = Report.for_radiograph(case["rad"])
    report.sections.update({"clinical_indication": "Cough and fever for five days.", "findings": findings,
                            "impression": IMPRESSION, "recommendation": "Follow-up in six weeks."})
    report.reader_name = "Dr. Renée Ørsted"
    report.set_prediction(PREDICTION_INPUT, None, when="2024-01-31T10:20:00+09:00")
    if final:
        report.finalize("2024-01-31T11:00:00+09:00")
    return report


def _render(case, report, name, **options):
    path = render_report_pdf(case["tmp"] / name, report, case["image"], case["heatmap"],
                             options=PdfOptions(**options))
    if SHOTS and shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(path), os.path.join(SHOTS, path.stem)], check=True)
    return path


@pytest.mark.parametrize("lines", [2, 150])
def test_impression_is_on_page_one_however_long_the_findings(case, qapp, lines):
    findings = "\n".join(f"Line {i}: the costophrenic angles are sharp." for i in range(lines))
    path = _render(case, _report(case, findings), f"findings-{lines}.pdf")
    pages = _pages(path)
    assert squash(IMPRESSION) in pages[0]
    assert squash("Line 0:") in "".join(pages) and squash(f"Line {lines - 1}:") in "".join(pages)
    if lines > 100:
        assert len(pages) >= 3


def test_pasted_ai_summary_is_printed_once(case, qapp):
    report = _report(case, "Patchy consolidation in the right lower zone.")
    summary = report.ai.summary()
    report.insert_ai_summary()  # the reader pressed "Copy AI summary to Findings"
    assert summary in report.sections["findings"]
    text = squash(read_text(_render(case, report, "pasted.pdf")))
    assert squash(summary) not in text  # the pasted paragraph is not printed a second time...
    assert text.count(squash("pneumonia (leading)")) == 1 and text.count(squash("71.0 %")) == 1  # ...the table once
    assert squash("The reader quoted the AI second opinion here") in text  # where it was pasted, a pointer
    assert squash("Patchy consolidation in the right lower zone.") in text  # the reader's own words stay
    assert report.sections["findings"].endswith(summary)  # the report itself is unchanged


def test_referring_physician_and_signature_line(case, qapp):
    path = _render(case, _report(case, "Clear lungs.", final=True), "signed.pdf", institution="Hôpital Saint-Éloi")
    text = read_text(path)
    # the AI heading is not left alone at the foot of page 1: its table is on the same page
    page = next(p for p in _pages(path) if squash("AI second opinion (research use") in p)
    assert squash("Other pneumonia (leading)") in page and squash("Normal 17.0 %") in page
    assert "Referring physician" in text and "Okada, Kenji" in text
    assert "Reported by" in text and "Dr. Renée Ørsted" in text
    assert "Final, signed electronically 2024-01-31 11:00 (UTC+09:00)" in text
    assert "Signature ____" in text and "Date ____" in text
    anon = read_text(_render(case, _report(case, "Clear lungs."), "anon.pdf", anonymise=True))
    assert "Referring physician" in anon and "Okada" not in anon and "Kenji" not in anon
    assert "Draft: not signed" in anon
