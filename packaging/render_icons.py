"""Render resources/icons/cxviewer.svg into the PNG, ICO and ICNS files the app and installers use.

Run after editing the SVG (the outputs are committed, so builds need nothing but Qt):

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

PNGs: cxviewer-16.png ... cxviewer-256.png (window icon, Linux hicolor theme). cxviewer.ico holds
every size as PNG entries (Windows executable icon; PNG-in-ICO is valid since Vista). cxviewer.icns
is written by Qt's icns plugin (macOS .app bundle).
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return bytes(data)


def write_ico(path: Path, images: dict[int, bytes]) -> None:
    """An ICO file whose entries are PNG streams (ICONDIR + ICONDIRENTRY per size)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, blob in sorted(images.items()):
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset + len(blobs))
        blobs += blob
    path.write_bytes(header + entries + blobs)


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs it for painting
    renderer = QSvgRenderer(str(ICONS / "cxviewer.svg"))
    if not renderer.isValid():
        print(f"cannot parse {ICONS / 'cxviewer.svg'}", file=sys.stderr)
        return 1
    pngs = {}
    for size in SIZES:
        image = render(renderer, size)
        pngs[size] = png_bytes(image)
        (ICONS / f"cxviewer-{size}.png").write_bytes(pngs[size])
    write_ico(ICONS / "cxviewer.ico", pngs)
    if not render(renderer, 256).save(str(ICONS / "cxviewer.icns"), "ICNS"):
        print("Qt could not write cxviewer.icns (no icns image plugin)", file=sys.stderr)
        return 1
    print(f"wrote {len(SIZES)} PNGs, cxviewer.ico and cxviewer.icns in {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
