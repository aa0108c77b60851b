"""The PDF report read back with pypdf: every field, both key images, anonymisation, scripts, pages.

The radiograph is a real chest CR rendered by cxviewer.imaging; the heat map is a real computation
on it (report_samples.edge_energy_map). The prediction below is renderer *input* (a Prediction value
given to the renderer), not a model result; the real model runs in test_report_cli.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from cxviewer.imaging import read_radiograph, render_display
from cxviewer.model import Prediction
from cxviewer.report import Report
from cxviewer.report.pdf import render_report_pdf
from cxviewer.report.pdf_options import PdfOptions
from pdf_readback import all_bytes, metadata, page_sizes_pt, read_images, read_text, squash
from report_samples import CHEST, JAPANESE, dicom_copy, edge_energy_map

PREDICTION_INPUT = Prediction(labels=("covid", "pneumonia", "normal"), probabilities=(0.12, 0.71, 0.17),
                              model_name="cxnet-densenet121", model_version="1.0.0", elapsed_ms=812.4,
                              device="CPU")
CARD_INPUT = {  # the structure cxviewer.training.evaluate writes into card.json
    "name": "cxnet-densenet121", "version": "1.0.0", "architecture": "densenet121",
    "input": {"size": 320},
    "metrics": {"test": {"n": 276, "accuracy": 0.851, "balanced_accuracy": 0.842, "macro_auc": 0.934,
                         "per_class": {"covid": {"recall": 0.9, "auc": 0.95},
                                       "pneumonia": {"recall": 0.79, "auc": 0.91},
                                       "normal": {"recall": 0.84, "auc": 0.94}},
                         "attention": {"lung_share_mean": 0.58, "lung_area_fraction_mean": 0.31}}},
}
SECTIONS_TEXT = {
    "clinical_indication": "Cough and fever for five days.",
    "findings": "Patchy consolidation in the right lower zone.\nNo pleural effusion. Patient 山田太郎 seen before.",
    "impression": "Right lower lobe pneumonia is likely.",
    "recommendation": "Follow-up radiograph in six weeks.",
}
READER = "Dr. Renée Zoë Ørsted"


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A Japanese patient's real chest CR (header values replaced in a tmp copy), its report and images."""
    tmp = tmp_path_factory.mktemp("pdfcase")
    path = dicom_copy(tmp, **JAPANESE)
    rad = read_radiograph(path)
    image = render_display(rad)
    report = Report.for_radiograph(rad)
    report.sections.update(SECTIONS_TEXT)
    report.reader_name = READER
    report.set_prediction(PREDICTION_INPUT, CARD_INPUT, when="2024-01-31T10:20:00+09:00")
    return {"rad": rad, "image": image, "heatmap": edge_energy_map(image), "report": report, "tmp": tmp}


@pytest.fixture(scope="module")
def pdfs(case, qapp):
    out = {}
    for anonymise in (False, True):
        path = case["tmp"] / f"report-{anonymise}.pdf"
        opts = PdfOptions(page_size="A4", institution="Hôpital Saint-Éloi — Radiologie", anonymise=anonymise,
                          image_caption="Header window 1, centre 550 / width 1024")
        render_report_pdf(path, case["report"], case["image"], case["heatmap"], options=opts)
        out[anonymise] = path
    return out


def test_every_field_is_in_the_text(pdfs):
    text = read_text(pdfs[False])
    for expected in [
        "Hôpital Saint-Éloi — Radiologie", "Chest radiograph report", "DRAFT",
        "Patient name", "Yamada, Tarou (山田 太郎 / やまだ たろう)", "JP-000123", "1958-04-12", "Male",
        "ACC-98765", "2024-01-31 10:15", "Thorax PA", "PA", "CR",
        "Clinical indication", "Technique", "Findings", "Impression", "Recommendation", "Reported by",
        *[line for t in SECTIONS_TEXT.values() for line in t.split("\n")],
        "Computed radiography (CR)", READER,
        "COVID-19", "12.0 %", "Other pneumonia (leading)", "71.0 %", "Normal", "17.0 %",
        "cxnet-densenet121 1.0.0", "device CPU", "812 ms", "2024-01-31 10:20 (UTC+09:00)",
        "Model card summary", "Held-out images", "276", "Macro ROC AUC", "0.934", "Recall Other pneumonia",
        "Grad-CAM mass inside lungs", "58%",
        "research software, not a medical device; not a diagnosis", "Research use only",
        "Header window 1, centre 550 / width 1024", "Grad-CAM attention", "Generated",
    ]:
        assert squash(expected) in squash(text), expected
    pages = len(page_sizes_pt(pdfs[False]))
    for i in range(1, pages + 1):
        assert f"Page {i} of {pages}" in text
    assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d", text)


def test_two_key_images_as_displayed(case, pdfs):
    images = read_images(pdfs[False])
    image = case["image"]
    h, w = image.shape
    keys = [im for im in images if abs(im.width / im.height - w / h) < 0.01]
    assert len(keys) == 2, [(im.width, im.height) for im in images]
    grey = [im for im in keys if np.abs(im.pixels[..., 0].astype(int) - im.pixels[..., 2]).max() <= 12]
    colour = [im for im in keys if im not in grey]
    assert len(grey) == 1 and len(colour) == 1
    # the grey image is the radiograph with the window on screen (JPEG-compressed in the PDF)
    import cv2

    shown = cv2.resize(image, (grey[0].width, grey[0].height), interpolation=cv2.INTER_AREA)
    assert np.abs(grey[0].pixels[..., 0].astype(float) - shown).mean() < 3.0
    # the overlay: the same radiograph where the map is cold, tinted where it is hot
    heat = cv2.resize(case["heatmap"], (colour[0].width, colour[0].height))
    rgb = colour[0].pixels.astype(float)
    tint = np.abs(rgb[..., 0] - rgb[..., 2])
    assert tint[heat > 0.7].mean() > 3 * tint[heat < 0.1].mean()
    # and a colour bar below it
    assert any(im.height < 20 and im.width >= 128 for im in images)


def test_anonymised_export_has_no_identifiers_anywhere(case, pdfs):
    rad = case["rad"]
    secrets = ["Yamada", "Tarou", "山田", "太郎", "やまだ", "たろう", "JP-000123", "ACC-98765", "19580412",
               "1958-04-12", rad.study_uid, rad.sop_uid, rad.series_uid, rad.path.name]
    plain, anon = read_text(pdfs[False]), read_text(pdfs[True])
    assert "JP-000123" in plain and "山田" in plain  # the search below can find them
    assert "anonymised" in anon.lower()
    blob = all_bytes(pdfs[True])
    meta = metadata(pdfs[True])
    for secret in secrets:
        assert secret not in anon, secret
        for enc in ("utf-8", "utf-16-be", "latin-1"):
            try:
                needle = secret.encode(enc)
            except UnicodeEncodeError:
                continue
            assert needle not in blob, (secret, enc)
        assert all(secret not in v for v in meta.values()), secret
    # what the reader typed about the patient is redacted as well, the rest of the findings kept
    assert "Patchy consolidation in the right lower zone." in anon
    assert "[redacted]" in anon
    # the Basic Profile by default: named in the PDF, and no study date or time in it
    assert "BasicApplicationLevelConfidentialityProfile" in squash(anon)
    assert "2024-01-31 10:15" in plain and "2024-01-31 10:15" not in anon and "20240131" not in anon


def test_metadata_is_neutral(pdfs):
    for path in pdfs.values():
        meta = metadata(path)
        assert meta["/Title"] == "Chest radiograph report"
        assert meta["/Creator"].startswith("CXViewer")
        assert meta.get("/Author", "") == ""
        assert "Yamada" not in meta["xmp"] and "JP-000123" not in meta["xmp"]


def test_japanese_and_accented_names_round_trip_with_embedded_fonts(pdfs):
    from pypdf import PdfReader

    text = read_text(pdfs[False])
    assert "山田太郎" in text  # typed in Findings: one run of one font
    assert squash("Yamada, Tarou (山田 太郎 / やまだ たろう)") in squash(text)  # from the DICOM header
    assert READER in text and "Hôpital Saint-Éloi" in text
    assert not re.search("[\u2e80-\u2fdf]", text)  # no Kangxi radicals in place of ideographs
    # Every font is embedded, and an embedded font maps glyphs to the ideographs themselves (its
    # ToUnicode table holds U+5C71 山 and U+7530 田): whichever CJK font is installed, its name
    # does not matter, only that the ideographs are embedded and extract as written.
    draws_ideographs = set()
    for page in PdfReader(str(pdfs[False])).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in desc or "/FontFile3" in desc or "/FontFile" in desc  # embedded
            cmap = font["/ToUnicode"].get_object().get_data().upper() if "/ToUnicode" in font else b""
            if b"5C71" in cmap and b"7530" in cmap:
                draws_ideographs.add(str(font["/BaseFont"]))
    assert draws_ideographs, "no embedded font maps glyphs to the ideographs"


def test_every_glyph_has_a_font(case, qapp, tmp_path):
    """The installed fonts cover Japanese and accented Latin (CI installs fonts-noto-cjk for this)."""
    opts = PdfOptions()
    render_report_pdf(tmp_path / "glyphs.pdf", case["report"], case["image"], options=opts)
    assert opts.warnings == [], "missing glyphs; install a CJK font (Debian: fonts-noto-cjk)"


def test_page_size_from_options(case, qapp, tmp_path):
    sizes = {}
    for size in ("A4", "Letter"):
        path = render_report_pdf(tmp_path / f"{size}.pdf", case["report"], case["image"],
                                 options=PdfOptions(page_size=size))
        sizes[size] = page_sizes_pt(path)[0]
    assert sizes["A4"] == pytest.approx((595, 842), abs=1)
    assert sizes["Letter"] == pytest.approx((612, 792), abs=1)


def test_long_report_paginates_with_numbers(case, qapp, tmp_path):
    report = Report.from_dict(case["report"].to_dict())
    report.sections["findings"] = "\n".join(f"Line {i}: the costophrenic angles are sharp." for i in range(150))
    path = render_report_pdf(tmp_path / "long.pdf", report, case["image"], case["heatmap"])
    pages = len(page_sizes_pt(path))
    assert pages >= 3
    text = read_text(path)
    for i in range(1, pages + 1):
        assert f"Page {i} of {pages}" in text
    assert "Line 0:" in text and "Line 149:" in text


def test_without_ai_result_says_so_and_shows_one_image(case, qapp, tmp_path):
    report = Report.for_radiograph(case["rad"])
    path = render_report_pdf(tmp_path / "noai.pdf", report, case["image"])
    text = read_text(path)
    assert "No AI result was available for this image." in text
    assert len([im for im in read_images(path) if im.height > 20]) == 1


def test_markup_in_user_text_is_shown_literally(case, qapp, tmp_path):
    report = Report.for_radiograph(case["rad"])
    report.sections["findings"] = "<b>bold?</b> <img src='file:///etc/hostname'> & done"
    path = render_report_pdf(tmp_path / "markup.pdf", report, case["image"])
    assert "<b>bold?</b> <img src='file:///etc/hostname'> & done" in read_text(path)
    assert len(read_images(path)) == 1


def test_bad_arguments_leave_no_file(case, qapp, tmp_path):
    target = tmp_path / "bad.pdf"
    with pytest.raises(ValueError):
        render_report_pdf(target, case["report"], np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError):
        render_report_pdf(target, case["report"], case["image"], options=PdfOptions(page_size="A5"))
    assert list(tmp_path.iterdir()) == []


def test_real_header_values_of_a_shared_file(qapp, tmp_path):
    """The bundled-sample chest CR as it is: its own header values reach the PDF."""
    rad = read_radiograph(CHEST)
    report = Report.for_radiograph(rad)
    path = render_report_pdf(tmp_path / "rg1.pdf", report, render_display(rad))
    text = read_text(path)
    assert rad.patient_id in text and "CompressedSamples, RG1" in text
    assert "2004-08-26" in text and "PA" in text


def test_the_grad_cam_key_is_drawn_as_the_overlay_is():
    """The key's low end is the untinted film (mid-grey), not black; its high end the overlay's strongest tint."""
    import numpy as np

    from cxviewer.report.key_images import key_images, overlay_image
    from cxviewer.report.pdf_options import PdfOptions

    film = np.full((64, 64), 128, np.uint8)
    options = PdfOptions()
    images = key_images(film, np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64), options)
    bar = images["colorbar"]
    assert tuple(bar[0, 0]) == (128, 128, 128)  # no attention: the film as it is
    strongest = overlay_image(np.full((1, 1), 128, np.uint8), np.ones((1, 1), np.float32), options.colormap,
                              options.overlay_opacity)[0, 0]
    assert tuple(bar[0, -1]) == tuple(strongest)


def test_a_short_box_is_not_cut_by_a_page_break(qapp):
    """A short table (the research notice's box) that a page break would cut moves whole to the next page: Qt lays a
    table's lines across the break, so each page drew half of a line (CR-MONO1-10-chest without AI ended page 1 in
    the middle of the notice)."""
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QTextDocument, QTextTable

    from cxviewer.report.pdf import _keep_headings_with_next

    body_h = 400.0
    for filler_lines in range(8, 30):  # the box lands across the break for some of these
        doc = QTextDocument()
        doc.setHtml("<p>" + "<br>".join(f"line {i}" for i in range(filler_lines)) + "</p>"
                    "<table border='1' width='100%'><tr><td>Research use only. The AI result is not a diagnosis;"
                    "<br>it must not be used without review.<br>A third line.</td></tr></table><p>after</p>")
        doc.setPageSize(QSizeF(300.0, body_h))
        _keep_headings_with_next(doc, body_h)
        (table,) = [f for f in doc.rootFrame().childFrames() if isinstance(f, QTextTable)]
        box = doc.documentLayout().frameBoundingRect(table)
        assert int(box.top() // body_h) == int((box.bottom() - 1) // body_h), (filler_lines, box)
