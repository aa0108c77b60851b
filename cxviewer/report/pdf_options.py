"""What a caller chooses for a report PDF: page size, institution, anonymisation, the image's look.

Qt-free: the HTML builder (``pdf_html``) and the key images (``key_images``) read it as well as
the renderer (``pdf``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE_SIZES = ("A4", "Letter")


@dataclass
class PdfOptions:
    page_size: str = "A4"  # "A4" or "Letter" (from the settings)
    institution: str = ""  # from the settings
    anonymise: bool = False
    keep_dates: bool = False  # with anonymise: the profile's option that keeps dates and times
    image_caption: str = ""  # e.g. "Window C 550 / W 1024"
    colormap: str = "inferno"  # the viewer's default overlay look (cxviewer.ui.ai.heatmap_overlay)
    overlay_opacity: float = 0.45
    generated_at: str = ""  # default: now
    warnings: list[str] = field(default_factory=list)  # filled by render_report_pdf (missing glyphs...)
    annotation_layer: Any = None  # RGBA uint8 of the reader's annotations over the displayed image
