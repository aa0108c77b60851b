"""The findings report as PDF, drawn with Qt's PDF writer (QPdfWriter + QTextDocument).

This is the one module outside ``cxviewer/ui`` that imports Qt, and only QtGui/QtCore: it needs a
QGuiApplication for fonts (``ensure_gui_application`` makes an offscreen one for the CLI).

Layout: a QTextDocument (HTML built here, every user or header value escaped) is paginated to the
body area of the page; each page is painted with a footer ("Page i of n", generation time, the
research-use notice). Fonts come from the system with a preference list that covers CJK scripts;
Qt embeds subsets of whatever fonts it used. Qt's ToUnicode maps pick the lowest code point for a
glyph, so CJK ideographs that share a glyph with a Kangxi radical (山, 田, 日, ...) would come back
from text extraction as radicals (⼭, ⽥): ``_repair_tounicode`` maps them back to the characters
actually written, so names can be searched and copied.
"""

from __future__ import annotations

import html
import logging
import os
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cxviewer import __version__
from cxviewer.files.atomic import AtomicFile
from cxviewer.report.annotation_overlay import with_annotations
from cxviewer.report.content import (MODEL_SCOPE, AIBlock, RESEARCH_NOTICE, RUNTIME_NAMES, SECTIONS, Report, profile_name,
                                     now_iso)

log = logging.getLogger(__name__)

PAGE_SIZES = ("A4", "Letter")
MAX_IMAGE_SIDE = 1400  # px embedded per key image (about 300 dpi at the printed size)
DOC_TITLE = "Chest radiograph report"
_LATIN_FAMILIES = ("DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial", "Helvetica Neue", "Helvetica")
_CJK_FAMILIES = ("Noto Sans CJK JP", "Noto Sans JP", "Source Han Sans JP", "IPAexGothic", "IPAGothic",
                 "Yu Gothic", "Meiryo", "Hiragino Sans", "Noto Sans CJK SC", "Noto Sans CJK KR",
                 "Microsoft YaHei", "PingFang SC", "Malgun Gothic", "Droid Sans Fallback",
                 "WenQuanYi Zen Hei")
# the viewer's colour map names -> OpenCV's (same definitions as matplotlib/pyqtgraph; CET-R4 is a rainbow)
_COLORMAPS = {"inferno": "COLORMAP_INFERNO", "viridis": "COLORMAP_VIRIDIS", "plasma": "COLORMAP_PLASMA",
              "magma": "COLORMAP_MAGMA", "CET-R4": "COLORMAP_TURBO", "jet": "COLORMAP_JET",
              "turbo": "COLORMAP_TURBO", "hot": "COLORMAP_HOT"}


@dataclass
class PdfOptions:
    page_size: str = "A4"  # "A4" or "Letter" (from the settings)
    institution: str = ""  # from the settings
    anonymise: bool = False
    keep_dates: bool = False  # with anonymise: the profile's option that keeps dates and times
    image_caption: str = ""  # e.g. "Window C 550 / W 1024"
    colormap: str = "inferno"  # the viewer's default overlay look (cxviewer.ui.heatmap_overlay)
    overlay_opacity: float = 0.45
    generated_at: str = ""  # default: now
    warnings: list[str] = field(default_factory=list)  # filled by render_report_pdf (missing glyphs...)
    annotation_layer: Any = None  # RGBA uint8 of the reader's annotations over the displayed image


def ensure_gui_application():
    """The running QGuiApplication, or a new one (offscreen when there is no display)."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") \
                and sys.platform.startswith("linux"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication(["cxviewer"])
    return app


def render_report_pdf(path: str | Path, report: Report, display_image: np.ndarray,
                      heatmap: np.ndarray | None = None, prediction: Any = None, card: Any = None,
                      options: PdfOptions | None = None) -> Path:
    """Write the report for one image to ``path`` (atomically: a failed export leaves no half file).

    ``display_image``: 2-D uint8, the radiograph as displayed (current window). ``heatmap``: float in
    [0, 1] (Grad-CAM), any shape (resized to the image). ``prediction`` (a Prediction or its dict) and
    ``card`` (ModelCard or its data) replace the report's AI block when given.
    """
    from PySide6.QtCore import QMarginsF, QRectF, QSizeF
    from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

    options = options or PdfOptions()
    if options.page_size not in PAGE_SIZES:
        raise ValueError(f"page size must be one of {', '.join(PAGE_SIZES)}, not {options.page_size!r}")
    image = np.asarray(display_image)
    if image.ndim != 2 or image.dtype != np.uint8 or image.size == 0:
        raise ValueError("display_image must be a non-empty 2-D uint8 array")
    ensure_gui_application()

    if prediction is not None or card is not None:
        report = _with_ai(report, prediction, card)
    src = report.anonymised(options.keep_dates) if options.anonymise else report
    generated = options.generated_at or now_iso()

    path = Path(path)
    target = AtomicFile(path, private=False)  # a unique temp file beside path; commit() fsyncs and renames
    tmp = str(target.temp)
    try:
        writer = QPdfWriter(tmp)
        writer.setResolution(300)
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4 if options.page_size == "A4"
                                     else QPageSize.PageSizeId.Letter))
        writer.setPageMargins(QMarginsF(15, 14, 15, 12), QPageLayout.Unit.Millimeter)
        writer.setTitle(DOC_TITLE)  # neutral: never a patient's name, even when not anonymised
        writer.setCreator(f"CXViewer {__version__}")

        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(writer)
        doc.setDocumentMargin(0)
        font = QFont()
        font.setFamilies(_font_families())
        font.setPointSizeF(9.0)
        doc.setDefaultFont(font)
        doc.setDefaultStyleSheet(_CSS)

        dpi = writer.logicalDpiX()
        page_w, page_h = float(writer.width()), float(writer.height())
        footer_h = 0.55 / 2.54 * dpi * 1.6  # two 7-pt lines and a gap
        body_h = page_h - footer_h
        text_width_px96 = page_w / dpi * 96.0  # QTextDocument sizes images in 96-dpi pixels

        resources = _image_resources(image, heatmap, options)
        for name, qimage in resources.items():
            doc.addResource(QTextDocument.ResourceType.ImageResource, _url(name), qimage)
        body_html = _build_html(src, options, generated, text_width_px96, image.shape, "overlay" in resources)
        doc.setHtml(body_html)
        doc.setPageSize(QSizeF(page_w, body_h))
        _keep_headings_with_next(doc, body_h)
        options.warnings[:] = _missing_glyphs(doc.toPlainText(), font)
        for w in options.warnings:
            log.warning("report PDF: %s", w)

        pages = doc.pageCount()
        painter = QPainter()
        if not painter.begin(writer):
            raise OSError(f"cannot write a PDF to {path.parent}")
        try:
            footer_font = QFont(font)
            footer_font.setPointSizeF(7.0)
            for i in range(pages):
                if i:
                    writer.newPage()
                painter.save()
                painter.translate(0, -i * body_h)
                doc.drawContents(painter, QRectF(0, i * body_h, page_w, body_h))
                painter.restore()
                _draw_footer(painter, footer_font, QRectF(0, body_h, page_w, footer_h), i + 1, pages,
                             generated)
        finally:
            painter.end()
        del writer
        _repair_tounicode(Path(tmp), doc.toPlainText() + _footer_text(generated, 1, pages))
        target.commit()
    except BaseException:
        target.discard()
        raise
    return path


def _keep_headings_with_next(doc, body_h: float, rounds: int = 6) -> None:
    """Move a heading that would end a page to the next page, with the text it introduces."""
    from PySide6.QtGui import QTextCursor, QTextFormat

    layout = doc.documentLayout()
    for _ in range(rounds):
        moved = False
        block = doc.begin()
        while block.isValid():
            nxt = block.next()
            if block.blockFormat().headingLevel() > 0 and nxt.isValid():
                top = layout.blockBoundingRect(block).top()
                below = layout.blockBoundingRect(nxt)
                lines = nxt.layout()
                first = lines.lineAt(0).height() if lines.lineCount() else below.height()
                table = QTextCursor(nxt).currentTable()
                if table is not None:  # a short table (the AI's probabilities) stays whole with its heading
                    frame = layout.frameBoundingRect(table)
                    if frame.height() < body_h / 3:
                        below, first = frame, frame.height()
                if int(top // body_h) != int((below.top() + min(first, body_h) - 1) // body_h):
                    fmt = block.blockFormat()
                    if not fmt.pageBreakPolicy() & QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore:
                        fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
                        QTextCursor(block).setBlockFormat(fmt)
                        moved = True
                        break  # the layout below has changed; start over
            block = nxt
        if not moved:
            break
    # the incremental relayout after a format change can lose blocks at the end: lay it all out again
    doc.markContentsDirty(0, doc.characterCount())


def _with_ai(report: Report, prediction: Any, card: Any) -> Report:
    import copy

    out = copy.deepcopy(report)
    if prediction is not None:
        out.ai = AIBlock.from_prediction(prediction, card, report.ai.analysed_at if report.ai else None)
    elif out.ai is not None and card is not None:
        from cxviewer.report.content import card_summary

        out.ai.card_summary = card_summary(card)
    return out


# ---------------------------------------------------------------------------------------------
# images


def _url(name: str):
    from PySide6.QtCore import QUrl

    return QUrl(f"cxreport://{name}")


def _fit(img: np.ndarray, max_side: int = MAX_IMAGE_SIDE) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def colorize(values_u8: np.ndarray, colormap: str = "jet") -> np.ndarray:
    """uint8 values -> RGB uint8 with an OpenCV colour map."""
    import cv2

    cmap = getattr(cv2, _COLORMAPS.get(colormap, "COLORMAP_INFERNO"))
    return cv2.cvtColor(cv2.applyColorMap(values_u8, cmap), cv2.COLOR_BGR2RGB)


def overlay_image(display: np.ndarray, heatmap: np.ndarray, colormap: str = "inferno",
                  opacity: float = 0.45) -> np.ndarray:
    """Grad-CAM over the displayed radiograph as the viewer draws it: alpha = opacity * min(2 h, 1),
    so cold areas stay grey and only the model's evidence is tinted."""
    import cv2

    heat = np.asarray(heatmap, dtype=np.float32)
    if heat.ndim != 2:
        raise ValueError("heatmap must be 2-D")
    if heat.shape != display.shape:
        heat = cv2.resize(heat, (display.shape[1], display.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat = np.nan_to_num(np.clip(heat, 0.0, 1.0))
    color = colorize((heat * 255).astype(np.uint8), colormap).astype(np.float32)
    grey = np.repeat(display[..., None], 3, axis=2).astype(np.float32)
    alpha = (float(opacity) * np.minimum(2.0 * heat, 1.0))[..., None]
    return np.clip(grey * (1 - alpha) + color * alpha + 0.5, 0, 255).astype(np.uint8)


def _qimage(arr: np.ndarray):
    from PySide6.QtGui import QImage

    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888).copy()


def _image_resources(image: np.ndarray, heatmap: np.ndarray | None, options: PdfOptions) -> dict:
    import cv2

    shown = _fit(image)  # downsample first: the overlay is then computed at print size only
    res = {"radiograph": _qimage(with_annotations(shown, options.annotation_layer))}
    if heatmap is not None:
        heat = np.asarray(heatmap, dtype=np.float32)
        if heat.ndim == 2 and heat.shape != shown.shape:
            area = heat.shape[0] > shown.shape[0]
            heat = cv2.resize(heat, (shown.shape[1], shown.shape[0]),
                              interpolation=cv2.INTER_AREA if area else cv2.INTER_LINEAR)
        res["overlay"] = _qimage(with_annotations(overlay_image(shown, heat, options.colormap,
                                                                options.overlay_opacity), options.annotation_layer))
        ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :], 8, axis=0)
        res["colorbar"] = _qimage(colorize(ramp, options.colormap))
    return res


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = """
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


def _build_html(report: Report, options: PdfOptions, generated: str, width96: float,
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
    status_note = (f"signed {html.escape(_when(report.finalized_at))}" if report.is_final
                   else "not signed")
    return (
        "<table width='100%' cellspacing='0' cellpadding='0'><tr>"
        f"<td width='66%'><h1>{institution or DOC_TITLE}</h1>"
        + (f"<p>{DOC_TITLE}</p>" if institution else "")
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
    signed = (f"Final, signed electronically {html.escape(_when(report.finalized_at))}" if report.is_final
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
            f"<p class='caption'>Where the model{model} looked (relative, not a finding)</p></td>")
    else:
        out.append("<td width='50%' valign='top'><p class='muted'>No Grad-CAM overlay: "
                   "no AI result for this image.</p></td>")
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
    lead = ai.label
    out.append("<table cellspacing='0' width='70%'><tr><th>Class</th><th>Probability</th><th></th></tr>")
    for label, p in zip(ai.labels, ai.probabilities):
        name = html.escape(label) + (" (leading)" if label == lead else "")
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
        out.append("<p><b>Uncertain:</b> no class is likely enough for the model to make a call.</p>")
    elif ai.call:
        out.append(f"<p><b>Call:</b> {html.escape(ai.call)}</p>")
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
        meta.append(f"analysed {html.escape(_when(ai.analysed_at))}")
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
    out.append("<p class='muted'>Figures measured on held-out patients of the model's own data "
               "set; performance on other hospitals' images may be lower.</p>")
    out.append("<table cellspacing='0' width='70%'>")
    for label, value in ai.card_summary:
        out.append(f"<tr><td class='label'>{html.escape(label)}</td><td>{html.escape(value)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _notice_html(generated: str) -> str:
    return ("<br><table width='100%' cellspacing='0' cellpadding='6' border='1' "
            "style='border-color:#b00020; border-style:solid;' bgcolor='#fff4f4'>"
            f"<tr><td><b>Research use only.</b> {html.escape(RESEARCH_NOTICE)}</td></tr></table>"
            f"<p class='muted'>Generated {html.escape(_when(generated))} by CXViewer "
            f"{html.escape(__version__)}.</p>")


def _when(iso: str) -> str:
    """ISO time -> ``YYYY-MM-DD HH:MM (UTC+hh:mm)`` for people."""
    from datetime import datetime

    try:
        t = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    offset = t.strftime("%z")
    tz = f" (UTC{offset[:3]}:{offset[3:]})" if offset else ""
    return t.strftime("%Y-%m-%d %H:%M") + tz


def _footer_text(generated: str, page: int, pages: int) -> str:
    return (f"Generated {_when(generated)} · CXViewer {__version__} · research software, not a medical "
            f"device; not a diagnosis Page {page} of {pages}")


def _draw_footer(painter, font, rect, page: int, pages: int, generated: str) -> None:
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QPen

    painter.save()
    painter.setFont(font)
    painter.setPen(QPen(QColor("#999999"), 1))
    top = rect.top() + rect.height() * 0.25
    painter.drawLine(QPointF(rect.left(), top), QPointF(rect.right(), top))
    painter.setPen(QColor("#444444"))
    text_rect = QRectF(rect.left(), top, rect.width(), rect.bottom() - top)
    left = (f"Generated {_when(generated)} · CXViewer {__version__} · "
            "research software, not a medical device; not a diagnosis")
    painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), left)
    painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                     f"Page {page} of {pages}")
    painter.restore()


# ---------------------------------------------------------------------------------------------
# fonts


def _font_families() -> list[str]:
    from PySide6.QtGui import QFontDatabase

    have = set(QFontDatabase.families())
    chosen = [f for f in _LATIN_FAMILIES if f in have][:1] + [f for f in _CJK_FAMILIES if f in have]
    return chosen or ["sans-serif"]


def _missing_glyphs(text: str, font) -> list[str]:
    """Characters no preferred font can draw (Qt may still find a system fallback, or draw boxes)."""
    from PySide6.QtGui import QFont, QFontMetricsF

    metrics = []
    for fam in font.families():
        f = QFont(font)
        f.setFamilies([fam])
        metrics.append(QFontMetricsF(f))
    missing = sorted({c for c in text if not c.isspace() and unicodedata.category(c)[0] != "C"
                      and not any(m.inFontUcs4(ord(c)) for m in metrics)})
    if missing:  # Qt falls back to any installed family that has the glyph
        from PySide6.QtGui import QFontDatabase

        others = [QFontMetricsF(QFont(fam)) for fam in QFontDatabase.families()
                  if fam not in font.families()]
        missing = [c for c in missing if not any(m.inFontUcs4(ord(c)) for m in others)]
    if not missing:
        return []
    return [f"no installed font has glyphs for {''.join(missing[:20])!r}; install a Noto font "
            "(Debian/Ubuntu: fonts-noto-core, fonts-noto-cjk) for these scripts"]


def _repair_tounicode(pdf_path: Path, written_text: str) -> None:
    """Map glyphs shared by a compatibility character and the text written back to the latter."""
    try:
        from pypdf import PdfReader, PdfWriter
    except ImportError:  # the PDF is still correct to look at; only copy/search of some CJK suffers
        log.info("pypdf is not installed; CJK text in the PDF may extract as radical forms")
        return
    used = set(written_text)
    remap = {c: n for c, n in _COMPAT_FORMS.items() if c not in used and n in written_text}
    if not remap:
        return
    reader = PdfReader(str(pdf_path))
    writer = PdfWriter(clone_from=reader)
    seen, changed = set(), False
    for page in writer.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            font = ref.get_object()
            tu = font.get("/ToUnicode")
            if tu is None:
                continue
            key = getattr(tu, "idnum", id(tu))
            if key in seen:
                continue
            seen.add(key)
            stream = tu.get_object()
            data = stream.get_data()
            new = _remap_cmap(data, remap)
            if new != data:
                stream.set_data(new)
                changed = True
    if changed:
        with open(pdf_path, "wb") as fh:
            writer.write(fh)


def _remap_cmap(data: bytes, remap: dict[str, str]) -> bytes:
    """Rewrite destination code points in a ToUnicode CMap (bfchar and bfrange sections)."""
    import re

    text = data.decode("latin-1")

    def dst(hexstr: str) -> str:
        try:
            s = bytes.fromhex(hexstr).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return hexstr
        if s in remap:
            return remap[s].encode("utf-16-be").hex().upper()
        return hexstr

    def fix_array(m: re.Match) -> str:
        return "[" + re.sub(r"<([0-9A-Fa-f]+)>", lambda h: f"<{dst(h.group(1))}>", m.group(1)) + "]"

    def fix_block(block: str, kind: str) -> str:
        if kind == "bfrange":
            block = re.sub(r"\[([^\]]*)\]", fix_array, block)
            # "<a> <a> <dst>": a one-code range is a plain mapping
            block = re.sub(r"<([0-9A-Fa-f]+)>\s*<\1>\s*<([0-9A-Fa-f]+)>",
                           lambda m: f"<{m.group(1)}> <{m.group(1)}> <{dst(m.group(2))}>", block)
        else:
            block = re.sub(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                           lambda m: f"<{m.group(1)}> <{dst(m.group(2))}>", block)
        return block

    out = re.sub(r"(begin(bfrange|bfchar))(.*?)(end\2)",
                 lambda m: m.group(1) + fix_block(m.group(3), m.group(2)) + m.group(4), text, flags=re.S)
    return out.encode("latin-1")


def _compat_forms() -> dict[str, str]:
    """Compatibility code point -> its NFKC form, for the blocks whose glyphs fonts share.

    CJK radicals and compatibility ideographs (⼭ -> 山), Latin ligatures (ﬁ -> fi) and Arabic
    presentation forms (contextual letter shapes -> the letters).
    """
    table: dict[str, str] = {}
    for start, end in ((0x2E80, 0x2FDF), (0xF900, 0xFAFF), (0xFB00, 0xFB06), (0xFB50, 0xFDFF),
                       (0xFE70, 0xFEFF)):
        for cp in range(start, end + 1):
            c = chr(cp)
            n = unicodedata.normalize("NFKC", c)
            if n != c:
                table[c] = n
    return table


_COMPAT_FORMS = _compat_forms()
