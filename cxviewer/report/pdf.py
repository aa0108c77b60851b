"""The findings report as PDF, drawn with Qt's PDF writer (QPdfWriter + QTextDocument).

This is the one module outside ``cxviewer/ui`` that imports Qt, and only QtGui/QtCore: it needs a
QGuiApplication for fonts (``ensure_gui_application`` makes an offscreen one for the CLI).

Layout: a QTextDocument (its HTML from ``pdf_html``, its images from ``key_images``) is paginated
to the body area of the page; each page is painted with a footer ("Page i of n", generation time,
the research-use notice). Fonts come from the system with a preference list that covers CJK
scripts; Qt embeds subsets of whatever fonts it used, and ``pdf_tounicode`` repairs the text
those fonts map back to.
"""

from __future__ import annotations

import logging
import os
import sys
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from cxviewer import __version__
from cxviewer.files.atomic import AtomicFile
from cxviewer.files.privacy import holds_patient_data
from cxviewer.report.content import Report, with_ai
from cxviewer.report.key_images import key_images
from cxviewer.report.pdf_html import CSS, build_html, document_title, footer_text, human_time
from cxviewer.report.pdf_options import PAGE_SIZES, PdfOptions
from cxviewer.report.pdf_tounicode import repair_tounicode
from cxviewer.report.timestamps import now_iso

log = logging.getLogger(__name__)

_LATIN_FAMILIES = ("DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial", "Helvetica Neue", "Helvetica")

_CJK_FAMILIES = ("Noto Sans CJK JP", "Noto Sans JP", "Source Han Sans JP", "IPAexGothic", "IPAGothic",
                 "Yu Gothic", "Meiryo", "Hiragino Sans", "Noto Sans CJK SC", "Noto Sans CJK KR",
                 "Microsoft YaHei", "PingFang SC", "Malgun Gothic", "Droid Sans Fallback",
                 "WenQuanYi Zen Hei")


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
        report = with_ai(report, prediction, card)
    src = report.anonymised(options.keep_dates) if options.anonymise else report
    generated = options.generated_at or now_iso()

    path = Path(path)
    # a unique temp file beside path; commit() fsyncs and renames
    target = AtomicFile(path, private=holds_patient_data())
    tmp = str(target.temp)
    try:
        writer = QPdfWriter(tmp)
        writer.setResolution(300)
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4 if options.page_size == "A4"
                                     else QPageSize.PageSizeId.Letter))
        writer.setPageMargins(QMarginsF(15, 14, 15, 12), QPageLayout.Unit.Millimeter)
        writer.setTitle(document_title(report))  # neutral: never a patient's name, even when not anonymised
        writer.setCreator(f"CXViewer {__version__}")

        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(writer)
        doc.setDocumentMargin(0)
        font = QFont()
        font.setFamilies(_font_families())
        font.setPointSizeF(9.0)
        doc.setDefaultFont(font)
        doc.setDefaultStyleSheet(CSS)

        dpi = writer.logicalDpiX()
        page_w, page_h = float(writer.width()), float(writer.height())
        footer_h = 0.55 / 2.54 * dpi * 1.6  # two 7-pt lines and a gap
        body_h = page_h - footer_h
        text_width_px96 = page_w / dpi * 96.0  # QTextDocument sizes images in 96-dpi pixels

        resources = {name: _qimage(arr) for name, arr in key_images(image, heatmap, options).items()}
        for name, qimage in resources.items():
            doc.addResource(QTextDocument.ResourceType.ImageResource, _url(name), qimage)
        body_html = build_html(src, options, generated, text_width_px96, image.shape, "overlay" in resources)
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
        repair_tounicode(Path(tmp), doc.toPlainText() + footer_text(generated, 1, pages))
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
            moved = _keep_short_tables_whole(doc, body_h)
        if not moved:
            break
    # the incremental relayout after a format change can lose blocks at the end: lay it all out again
    doc.markContentsDirty(0, doc.characterCount())


def _keep_short_tables_whole(doc, body_h: float) -> bool:
    """Move a short table (the research notice's box, the AI block's rows: under a third of a page) that a page
    break would cut to the next page: Qt lays a table's lines across the break, so half a line would be drawn on
    each page. True when one was moved (the layout below has changed)."""
    from PySide6.QtGui import QTextFormat, QTextTable

    layout = doc.documentLayout()
    for frame in doc.rootFrame().childFrames():
        if not isinstance(frame, QTextTable):
            continue
        box = layout.frameBoundingRect(frame)
        fmt = frame.format()
        if box.height() >= body_h / 3 or fmt.pageBreakPolicy() & QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore:
            continue
        if int(box.top() // body_h) != int((box.bottom() - 1) // body_h):
            fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
            frame.setFormat(fmt)
            return True
    return False


def _url(name: str):
    from PySide6.QtCore import QUrl

    return QUrl(f"cxreport://{name}")


def _qimage(arr: np.ndarray):
    from PySide6.QtGui import QImage

    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888).copy()


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
    left = (f"Generated {human_time(generated)} · CXViewer {__version__} · "
            "research software, not a medical device; not a diagnosis")
    painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), left)
    painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                     f"Page {page} of {pages}")
    painter.restore()


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
