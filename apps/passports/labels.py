"""Printable passport labels (reportlab): A4 sheets of 3 x 7 labels of 70 x 42.3 mm (the common
21-up adhesive sheet), each with the QR code drawn as vectors (sharp at any printer resolution),
the device's name, its passport code in large type, model and serial number, and the maker.

Text uses the PDF base font Helvetica, which covers Latin-1 only: other characters print as "?"
(noted in docs/passports.md; embedding a Unicode font is the fix when a customer needs it).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from apps.passports.qr import passport_uri_of, qr_matrix

COLUMNS, ROWS = 3, 7
LABEL_WIDTH, LABEL_HEIGHT = 70 * mm, 42.3 * mm
QR_SIZE = 30 * mm
PADDING = 3 * mm
FONT, FONT_BOLD = "Helvetica", "Helvetica-Bold"


def _printable(text: str, limit: int) -> str:
    text = (text or "").encode("latin-1", "replace").decode("latin-1")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _draw_qr(pdf: canvas.Canvas, uri: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(uri)
    module = size / len(matrix)
    pdf.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        # Runs of dark modules as one rectangle each: fewer PDF operators, no hairline seams.
        column = 0
        while column < len(row):
            if row[column]:
                start = column
                while column < len(row) and row[column]:
                    column += 1
                top = y + size - (row_index + 1) * module
                pdf.rect(x + start * module, top, (column - start) * module, module, stroke=0, fill=1)
            else:
                column += 1


def _draw_label(pdf: canvas.Canvas, passport, x: float, y: float) -> None:
    _draw_qr(pdf, passport_uri_of(passport), x + PADDING, y + (LABEL_HEIGHT - QR_SIZE) / 2, QR_SIZE)
    text_x = x + PADDING + QR_SIZE + 2 * mm
    top = y + LABEL_HEIGHT - PADDING - 3 * mm
    pdf.setFont(FONT_BOLD, 8)
    pdf.drawString(text_x, top, _printable(passport.device_name, 26))
    pdf.setFont(FONT, 6.5)
    pdf.drawString(text_x, top - 9, _printable(passport.manufacturer, 32))
    pdf.drawString(text_x, top - 17, _printable(f"Model {passport.model}" if passport.model else "", 32))
    pdf.drawString(text_x, top - 25, _printable(f"S/N {passport.serial_number}", 32))
    pdf.setFont(FONT_BOLD, 6.2)
    pdf.drawString(text_x, y + PADDING + 6, passport.code)
    pdf.setFont(FONT, 5)
    pdf.drawString(text_x, y + PADDING, "Scan for the device passport")


def label_sheet_pdf(passports: Sequence) -> bytes:
    """A PDF of A4 label sheets, one label per passport in the given order (21 a page)."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    pdf.setTitle("Device passport labels")
    page_width, page_height = A4
    margin_x = (page_width - COLUMNS * LABEL_WIDTH) / 2
    margin_y = (page_height - ROWS * LABEL_HEIGHT) / 2
    per_page = COLUMNS * ROWS
    for index, passport in enumerate(passports):
        if index and index % per_page == 0:
            pdf.showPage()
        slot = index % per_page
        row, column = divmod(slot, COLUMNS)
        x = margin_x + column * LABEL_WIDTH
        y = page_height - margin_y - (row + 1) * LABEL_HEIGHT
        _draw_label(pdf, passport, x, y)
    if not passports:
        pdf.drawString(margin_x, page_height - margin_y, "No passports.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
