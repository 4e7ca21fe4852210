"""What every page shares: the page size and colours, the QR code, the logo and the footer."""

from __future__ import annotations

import functools
import io

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen.canvas import Canvas

from apps.documents.content import TemplateOptions
from apps.documents.rendering.fonts import BOLD, REGULAR

PAGE_WIDTH, PAGE_HEIGHT = A4
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#888888")
SHADE = colors.HexColor("#EEEEEE")


def draw_qr_code(canvas: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    """Draw the QR code of `url` as a `size` square whose lower-left corner is (x, y)."""
    matrix = segno.make(url, error="m", micro=False).matrix
    quiet_zone = 4  # modules of white around the symbol, as the standard asks
    module = size / (len(matrix) + 2 * quiet_zone)
    canvas.saveState()
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (quiet_zone + row_index + 1) * module
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            # One rectangle per run of dark modules keeps the path (and the file) small.
            path.rect(x + (quiet_zone + start) * module, top, (column - start) * module, module)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


@functools.lru_cache(maxsize=32)
def _logo(png: bytes) -> ImageReader:
    return ImageReader(io.BytesIO(png))


def draw_logo(canvas: Canvas, png: bytes, *, x: float, top: float, max_width: float, max_height: float) -> float:
    """Draw the logo scaled into the box below `top`; return the width it took."""
    image = _logo(png)
    pixel_width, pixel_height = image.getSize()
    scale = min(max_width / pixel_width, max_height / pixel_height)
    width, height = pixel_width * scale, pixel_height * scale
    canvas.drawImage(image, x, top - height, width, height, mask="auto")
    return width


def draw_page_footer(canvas: Canvas, options: TemplateOptions, labels: dict[str, str]) -> None:
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    canvas.line(12 * mm, 14 * mm, PAGE_WIDTH - 12 * mm, 14 * mm)
    canvas.setFillColor(GREY)
    canvas.setFont(REGULAR, 7)
    if options.footer_text:
        for index, line in enumerate(simpleSplit(options.footer_text, REGULAR, 7, PAGE_WIDTH - 60 * mm)[:2]):
            canvas.drawString(12 * mm, 10.5 * mm - index * 8.5, line)
    canvas.drawRightString(PAGE_WIDTH - 12 * mm, 10.5 * mm, f"{labels['page']} {canvas.getPageNumber()}")
    canvas.restoreState()


def draw_draft_mark(canvas: Canvas, text: str) -> None:
    """A large diagonal mark across the page: the document is a draft, not for use."""
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.18))
    canvas.setFont(BOLD, 72)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(45)
    canvas.drawCentredString(0, -24, text)
    canvas.restoreState()
