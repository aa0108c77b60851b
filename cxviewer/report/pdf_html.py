"""The findings report as the HTML a PDF page is laid out from (Qt-free).

Every user or header value is escaped. Reading order: what a reader needs first fits page 1
(identification, the Impression, the reader's report and signature), then the key images and the
AI's opinion, the model card's figures and the research-use notice.
"""

from __future__ import annotations

import html

from cxviewer import __version__
from cxviewer.report.ai_block import MODEL_SCOPE, RUNTIME_NAMES, AIBlock
from cxviewer.report.content import RESEARCH_NOTICE, SECTIONS, Report
from cxviewer.report.pdf_options import PdfOptions
from cxviewer.report.redaction import profile_name

DOC_TITLE = "Chest radiograph report"
OTHER_TITLE = "Radiograph report"  # a film whose header names another body part (a hip film in a chest study)


def document_title(report: Report) -> str:
    """The report's title: a chest report unless the film's header names another body part (never a patient's
    name: it is also the PDF's Title)."""
    body_part = (getattr(report.header, "body_part", "") or "").strip().upper()
    return DOC_TITLE if body_part in ("", "CHEST", "THORAX", "LUNG", "CHEST_TO_PELVIS") else OTHER_TITLE


CSS = """
h1 { font-size: 15pt; font-weight: bold; margin: 0; }
h2 { font-size: 11pt; font-weight: bold; margin-top: 10px; margin-bottom: 3px; color: #1d3557; }
h3 { font-size: 9.5pt; font-weight: bold; margin-top: 7px; margin-bottom: 1px; }
p { margin-top: 0; margin-bottom: 2px; }
td { padding: 2px 4px; }
th { padding: 2px 4px; text-align: left; background-color: #e8edf3; }
.label { color: #555555; }
.muted { color: #666666; font-size: 8pt; }
.caption { color: #444444; font-size: 7.5pt; }
"""


def _esc(text: str) -> str:
    """User/header text -> HTML: escaped, line breaks kept, empty shown as a dash."""
    text = (text or "").strip()
    if not text:
        return "&#8212;"
    return html.escape(text).replace("\r\n", "\n").replace("\n", "<br>")


def build_html(report: Report, options: PdfOptions, generated: str, width96: float,
                image_shape: tuple[int, int], has_overlay: bool) -> str:
    """The report as HTML, in reading order: what a reader needs first fits page 1 (identification,
    the Impression, the reader's report and signature), then the key images and the AI's opinion."""
    parts = [
        _title_html(report, options),
        _patient_html(report, options),
        _impression_html(report),
        _sections_html(report),
        _signature_html(report),
        _images_html(report, options, width96, image_shape, has_overlay),
        _ai_html(report.ai),
        _model_card_html(report.ai),
        _notice_html(generated),
    ]
    return "<html><body>" + "\n".join(p for p in parts if p) + "</body></html>"


def _title_html(report: Report, options: PdfOptions) -> str:
    """Institution (or the document title) on the left, Draft/Final and the anonymisation profile right."""
    institution = _esc(options.institution) if options.institution.strip() else ""
    status_note = (f"signed {html.escape(human_time(report.finalized_at))}" if report.is_final
                   else "not signed")
    return (
        "<table width='100%' cellspacing='0' cellpadding='0'><tr>"
        f"<td width='66%'><h1>{institution or document_title(report)}</h1>"
        + (f"<p>{document_title(report)}</p>" if institution else "")
        + "</td>"
        f"<td align='right'><p><b>{report.status.upper()}</b> <span class='muted'>({status_note})</span></p>"
        + (f"<p class='muted'>Anonymised export: {html.escape(profile_name(options.keep_dates))}</p>"
           if options.anonymise else "")
        + "</td></tr></table><hr>")


def _patient_html(report: Report, options: PdfOptions) -> str:
    """Patient and study table: the name on a row of its own (names can be long), then two pairs a row."""
    rows = report.header.display_rows(options.anonymise, options.keep_dates)
    (name_label, name), rest = rows[0], rows[1:]
    out = ["<h2>Patient and study</h2><table width='100%' cellspacing='0' border='0'>",
           f"<tr><td width='21%' class='label' valign='middle'>{html.escape(name_label)}</td>"
           f"<td colspan='3'>{_esc(name)}</td></tr>"]
    for i in range(0, len(rest), 2):
        cells = "".join(f"<td width='21%' class='label'>{html.escape(label)}</td><td width='29%'>{_esc(value)}</td>"
                        for label, value in rest[i:i + 2])
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def _impression_html(report: Report) -> str:
    """The reader's conclusion, boxed, right under the identification: always on page 1."""
    title = dict(SECTIONS).get("impression", "Impression")
    return ("<h2>Report</h2>"
            "<table width='100%' cellspacing='0' cellpadding='6' border='1' bgcolor='#f3f6fa' "
            "style='border-color:#1d3557; border-style:solid;'>"
            f"<tr><td><b>{html.escape(title)}</b><br>{_esc(report.sections.get('impression', ''))}</td></tr></table>")


def _sections_html(report: Report) -> str:
    """The reader's other sections. An AI summary pasted into Findings is printed once, in the AI
    section below: here a pointer to it stands where it was pasted."""
    out = []
    for key, title in SECTIONS:
        if key == "impression":
            continue
        text = report.sections.get(key, "")
        body = _esc(text)
        if key == "findings" and report.ai is not None:
            summary = report.ai.summary()
            if summary and summary in text:
                before, _, after = text.partition(summary)
                body = "".join(x for x in (
                    _esc(before) if before.strip() else "",
                    "<br>" if before.strip() else "",
                    "<i>[The reader quoted the AI second opinion here; it is printed under "
                    "\u201cAI second opinion\u201d below.]</i>",
                    "<br>" + _esc(after) if after.strip() else ""))
        out.append(f"<h3>{html.escape(title)}</h3><p>{body}</p>")
    return "".join(out)


def _signature_html(report: Report) -> str:
    """Who reported, Draft/Final, and a line to sign by hand."""
    signed = (f"Final, signed electronically {html.escape(human_time(report.finalized_at))}" if report.is_final
              else "Draft: not signed")
    return ("<table width='100%' cellspacing='0' cellpadding='2' border='0' style='margin-top:8px'><tr>"
            f"<td width='50%' valign='bottom'><span class='label'>Reported by</span><br><b>{_esc(report.reader_name)}</b>"
            f"<br><span class='muted'>{signed}</span></td>"
            "<td width='50%' valign='bottom'><br><br>"
            "<p>Signature ________________________________</p>"
            "<p>Date ____________________</p></td></tr></table>")


def _images_html(report: Report, options: PdfOptions, width96: float, image_shape: tuple[int, int],
                 has_overlay: bool) -> str:
    """The radiograph as displayed and, beside it, the Grad-CAM overlay with its colour bar."""
    h, w = image_shape
    scale = min(width96 * 0.485 / w, (width96 * 0.55) / h)
    iw, ih = max(1, int(w * scale)), max(1, int(h * scale))
    caption = _esc(options.image_caption) if options.image_caption else "Default window"
    out = ["<h2>Key images</h2><table width='100%' cellspacing='0' cellpadding='0'><tr>",
           f"<td width='50%' valign='top'><img src='cxreport://radiograph' width='{iw}' height='{ih}'>"
           f"<p class='caption'>Radiograph as displayed: {caption}</p></td>"]
    if has_overlay:
        model = ""
        if report.ai:
            model = " " + html.escape(" ".join(x for x in (report.ai.model_name, report.ai.model_version) if x))
        out.append(
            f"<td width='50%' valign='top'><img src='cxreport://overlay' width='{iw}' height='{ih}'><br>"
            f"<img src='cxreport://colorbar' width='{iw}' height='8'>"
            f"<table width='{iw}' cellspacing='0' cellpadding='0'><tr><td class='caption'>low</td>"
            f"<td class='caption' align='center'>Grad-CAM attention</td>"
            f"<td class='caption' align='right'>high</td></tr></table>"
            f"<p class='caption'>Where the model{model} looked (relative, not a finding; no tint where it did not "
            "look, nor outside the region it was shown)</p></td>")
    else:
        why = ("the model gives no opinion on an image outside its scope" if report.ai and report.ai.out_of_scope
               else "no AI result for this image")
        out.append(f"<td width='50%' valign='top'><p class='muted'>No Grad-CAM overlay: {why}.</p></td>")
    out.append("</tr></table>")
    return "".join(out)


def _ai_html(ai: AIBlock | None) -> str:
    """The model's probabilities with bars, its call, where it looked, its scope and run details."""
    out = ["<h2>AI second opinion <span class='muted'>(research use, not a diagnosis)</span></h2>"]
    if ai is None:
        out.append("<p>No AI result was available for this image.</p>")
        return "".join(out)
    if ai.out_of_scope:
        out.append(f"<p><b>Outside the model's scope:</b> {_esc(ai.out_of_scope.rstrip('.'))}. "
                   "The model gives no opinion on this image.</p>")
        out.append(f"<p class='muted'>Model {html.escape(ai.model_name)} {html.escape(ai.model_version)}</p>")
        return "".join(out)
    lead = None if ai.call == "uncertain" else ai.label  # an uncertain film has no leading class (as the report pane)
    out.append("<table cellspacing='0' width='70%'><tr><th>Class</th><th>Probability</th><th></th></tr>")
    for label, p in zip(ai.labels, ai.probabilities):
        name = html.escape(ai.name(label)) + (" (leading)" if label == lead else "")
        if label == lead:
            name = f"<b>{name}</b>"
        bar = min(100, max(1, int(round(p * 100))))
        rest = f"<td width='{100 - bar}%'></td>" if bar < 100 else ""
        out.append(
            f"<tr><td>{name}</td><td align='right'>{p * 100:.1f} %</td><td width='45%'>"
            "<table width='100%' cellspacing='0' cellpadding='0'><tr>"
            f"<td width='{bar}%' bgcolor='#457b9d' height='7'></td>{rest}</tr></table></td></tr>")
    out.append("</table>")
    if ai.call == "uncertain":
        out.append(f"<p><b>Uncertain:</b> {html.escape(ai.no_call_reason)}.</p>")
    elif ai.call:
        out.append(f"<p><b>Call:</b> {html.escape(ai.name(ai.call))}</p>")
    if ai.attention_text:
        out.append(f"<p>{html.escape(ai.attention_text)}</p>")
    out.append(f"<p class='muted'>{html.escape(MODEL_SCOPE)}</p>")
    meta = [f"Model {html.escape(ai.model_name)} {html.escape(ai.model_version)}".strip()]
    if ai.runtime:
        meta.append(f"runtime {html.escape(RUNTIME_NAMES.get(ai.runtime, ai.runtime))}")
    if ai.device:
        meta.append(f"device {html.escape(ai.device)}")
    if ai.elapsed_ms:
        meta.append(f"{ai.elapsed_ms:.0f} ms")
    if ai.analysed_at:
        meta.append(f"analysed {html.escape(human_time(ai.analysed_at))}")
    out.append(f"<p class='muted'>{' · '.join(meta)}</p>")
    return "".join(out)


def _model_card_html(ai: AIBlock | None) -> str:
    """The held-out figures of the model that gave the opinion (nothing without an AI result)."""
    if ai is None:
        return ""
    out = ["<h2>Model card summary</h2>"]
    if not ai.card_summary:
        out.append("<p>The model card lists no held-out figures.</p>")
        return "".join(out)
    out.append("<p class='muted'>Figures measured on held-out patients of the sources the model was trained "
               "on and, where the card has them, on films from other hospitals it never saw, where it is "
               "weaker.</p>")
    out.append("<table cellspacing='0' width='70%'>")
    for label, value in ai.card_summary:
        out.append(f"<tr><td class='label'>{html.escape(label)}</td><td>{html.escape(value)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _notice_html(generated: str) -> str:
    return ("<br><table width='100%' cellspacing='0' cellpadding='6' border='1' "
            "style='border-color:#b00020; border-style:solid;' bgcolor='#fff4f4'>"
            f"<tr><td><b>Research use only.</b> {html.escape(RESEARCH_NOTICE)}</td></tr></table>"
            f"<p class='muted'>Generated {html.escape(human_time(generated))} by CXViewer "
            f"{html.escape(__version__)}.</p>")


def human_time(iso: str) -> str:
    """ISO time -> ``YYYY-MM-DD HH:MM (UTC+hh:mm)`` for people."""
    from datetime import datetime

    try:
        t = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    offset = t.strftime("%z")
    tz = f" (UTC{offset[:3]}:{offset[3:]})" if offset else ""
    return t.strftime("%Y-%m-%d %H:%M") + tz


def footer_text(generated: str, page: int, pages: int) -> str:
    return (f"Generated {human_time(generated)} · CXViewer {__version__} · research software, not a medical "
            f"device; not a diagnosis Page {page} of {pages}")
