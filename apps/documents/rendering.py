"""Render the six shipping documents to PDF with reportlab, from plain data.

`render_document(document, options)` is the one entry point. The CMR is drawn box by box on a
canvas, as the printed form is laid out; the other five flow through platypus so long item
lists break across pages. Every page carries a QR code of the document's verification URL,
drawn as vector modules (no raster image to decode, crisp at any zoom).

Text is set in DejaVu Sans, embedded (subset) from static/fonts/, so Cyrillic renders and the
output does not depend on the fonts of the machine that renders it.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from apps.documents.content import (
    DEFAULT_TEMPLATE,
    DocumentType,
    Language,
    LineItem,
    OptionalField,
    Party,
    ShipmentDocument,
    TemplateOptions,
)
from apps.documents.labels import labels_for

FONT_DIRECTORY = Path(__file__).resolve().parents[2] / "static" / "fonts"
REGULAR = "ManifestSans"
BOLD = "ManifestSans-Bold"

PAGE_WIDTH, PAGE_HEIGHT = A4
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#888888")
SHADE = colors.HexColor("#EEEEEE")


@functools.cache
def register_fonts() -> None:
    """Register the embedded fonts with reportlab once per process."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIRECTORY / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIRECTORY / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)


def render_document(document: ShipmentDocument, options: TemplateOptions = DEFAULT_TEMPLATE) -> bytes:
    """The document as PDF bytes, laid out for its type, in its language, dressed by the template."""
    register_fonts()
    if document.document_type is DocumentType.CMR:
        return _CmrForm(document, options).render()
    return _FlowingDocument(document, options).render()


# Formatting -------------------------------------------------------------------------------


def format_decimal(value: Decimal, language: Language, places: int | None = 2) -> str:
    """A number as the language writes it: 1,234.50 in English, 1 234,50 in Russian.

    With `places=None` the number keeps the decimals it has, without trailing zeros.
    """
    if places is None:
        value = value.normalize()
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
        text = f"{value:,f}"
    else:
        text = f"{value:,.{places}f}"
    if language == "ru":
        # A no-break space, so a table cell never splits a number at its thousands.
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def format_date(value: date | None, language: Language) -> str:
    if value is None:
        return ""
    return value.strftime("%d.%m.%Y") if language == "ru" else value.isoformat()


def party_lines(party: Party | None, labels: dict[str, str], *, show_tax_id: bool) -> list[str]:
    """Name first, then address, country and (when the template shows it) the tax id."""
    if party is None:
        return []
    lines = [party.name, *party.address_lines]
    if party.country:
        lines.append(party.country)
    if show_tax_id and party.tax_id:
        lines.append(f"{labels['tax_id']}: {party.tax_id}")
    return lines


# Shared drawing ---------------------------------------------------------------------------


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


# The five flowing documents ---------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    label_key: str
    weight: float
    value: Callable[[int, LineItem], str]
    numeric: bool = False
    shown_by: OptionalField | None = None


@dataclass(frozen=True)
class _Layout:
    parties: tuple[tuple[str, str], ...]  # (label key, attribute of ShipmentDocument)
    details: tuple[str, ...]  # attributes of ShipmentDocument, shown when set
    columns: tuple[str, ...]  # keys of _FlowingDocument.columns()
    totals: tuple[str, ...]  # total_amount, total_packages, total_weight_kg, total_volume_m3
    signatures: tuple[str, ...]  # label keys of the signing parties


_LAYOUTS: dict[DocumentType, _Layout] = {
    DocumentType.COMMERCIAL_INVOICE: _Layout(
        parties=(("seller", "shipper"), ("buyer", "consignee")),
        details=("terms_of_delivery", "currency", "place_of_taking_over", "place_of_delivery", "vehicle"),
        columns=(
            "position",
            "sku",
            "description",
            "hs_code",
            "origin_country",
            "quantity",
            "unit",
            "unit_price",
            "amount",
            "weight_kg",
        ),
        totals=("total_amount", "total_weight_kg"),
        signatures=("seller",),
    ),
    DocumentType.BILL_OF_LADING: _Layout(
        parties=(("shipper", "shipper"), ("consignee", "consignee"), ("carrier", "carrier")),
        details=(
            "place_of_taking_over",
            "taking_over_date",
            "port_of_loading",
            "port_of_discharge",
            "place_of_delivery",
            "vehicle",
            "terms_of_delivery",
            "place_of_issue",
        ),
        columns=("marks", "packages", "packaging", "description", "hs_code", "weight_kg", "volume_m3"),
        totals=("total_packages", "total_weight_kg", "total_volume_m3"),
        signatures=("carrier", "shipper"),
    ),
    DocumentType.PACKING_LIST: _Layout(
        parties=(("shipper", "shipper"), ("consignee", "consignee")),
        details=("place_of_taking_over", "taking_over_date", "place_of_delivery", "vehicle"),
        columns=(
            "position",
            "marks",
            "sku",
            "description",
            "quantity",
            "unit",
            "packages",
            "packaging",
            "weight_kg",
            "volume_m3",
        ),
        totals=("total_packages", "total_weight_kg", "total_volume_m3"),
        signatures=("shipper",),
    ),
    DocumentType.CERTIFICATE_OF_ORIGIN: _Layout(
        parties=(("exporter", "shipper"), ("consignee", "consignee")),
        details=("place_of_taking_over", "place_of_delivery", "taking_over_date", "vehicle", "place_of_issue"),
        columns=("position", "marks", "description", "hs_code", "quantity", "unit", "packages", "origin_country"),
        totals=("total_packages", "total_weight_kg"),
        signatures=("exporter", "certification"),
    ),
    DocumentType.PROOF_OF_DELIVERY: _Layout(
        parties=(("shipper", "shipper"), ("consignee", "consignee"), ("carrier", "carrier")),
        details=(
            "place_of_taking_over",
            "taking_over_date",
            "place_of_delivery",
            "delivery_date",
            "vehicle",
            "received_by",
        ),
        columns=("position", "sku", "description", "quantity_delivered", "unit", "packages", "weight_kg"),
        totals=("total_packages", "total_weight_kg"),
        signatures=("consignee", "carrier"),
    ),
}

# The certificate's whole point is the origin: a template cannot hide it there.
_ALWAYS_SHOWN = {DocumentType.CERTIFICATE_OF_ORIGIN: {"origin_country"}}
_DETAIL_OPTIONAL_FIELDS = {"vehicle": OptionalField.VEHICLE}
_TOTAL_OPTIONAL_FIELDS = {"total_weight_kg": OptionalField.WEIGHTS}


class _FlowingDocument:
    header_height = 40 * mm
    margin = 14 * mm

    def __init__(self, document: ShipmentDocument, options: TemplateOptions) -> None:
        self.document = document
        self.options = options
        self.labels = labels_for(document.language)
        self.layout = _LAYOUTS[document.document_type]
        self.title = self.labels[f"title.{document.document_type}"]
        self.text = ParagraphStyle("text", fontName=REGULAR, fontSize=8, leading=10)
        self.small = ParagraphStyle("small", parent=self.text, fontSize=7, leading=8.6)
        self.cell = ParagraphStyle("cell", parent=self.text, fontSize=7.5, leading=9)
        self.number_cell = ParagraphStyle("number", parent=self.cell, alignment=TA_RIGHT)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=BOLD, fontSize=6.8, leading=8, textColor=GREY)

    def render(self) -> bytes:
        buffer = io.BytesIO()
        document = self.document
        template = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=self.margin,
            rightMargin=self.margin,
            topMargin=self.header_height,
            bottomMargin=20 * mm,
            title=f"{self.title} {self.labels['number']} {document.number}",
            author=document.shipper.name,
            subject=document.verification_url,
            creator="Manifest",
            initialFontName=REGULAR,
        )
        # The frame pads its content by 6 points on each side.
        self.width = template.width - 12
        template.build(self.story(), onFirstPage=self.decorate, onLaterPages=self.decorate)
        return buffer.getvalue()

    # Page furniture.

    def decorate(self, canvas: Canvas, _template: SimpleDocTemplate) -> None:
        options, labels, document = self.options, self.labels, self.document
        canvas.saveState()
        left, top = self.margin, PAGE_HEIGHT - 8 * mm
        qr_size = 26 * mm
        if options.header_text:
            canvas.setFont(REGULAR, 7)
            canvas.setFillColor(GREY)
            canvas.drawString(left, top, options.header_text[:160])
        text_left = left
        if options.logo_png:
            text_left += draw_logo(
                canvas, options.logo_png, x=left, top=top - 3 * mm, max_width=40 * mm, max_height=16 * mm
            )
            text_left += 5 * mm
        canvas.setFillColor(colors.black)
        title_size = 14
        room = PAGE_WIDTH - self.margin - qr_size - 4 * mm - text_left
        while title_size > 9 and pdfmetrics.stringWidth(self.title, BOLD, title_size) > room:
            title_size -= 0.5
        canvas.setFont(BOLD, title_size)
        canvas.drawString(text_left, top - 11 * mm, self.title)
        canvas.setFont(REGULAR, 9)
        issued = format_date(document.issue_date, document.language)
        canvas.drawString(
            text_left,
            top - 17 * mm,
            f"{labels['number']} {document.number}    {labels['issue_date']}: {issued}",
        )
        qr_x = PAGE_WIDTH - self.margin - qr_size
        draw_qr_code(canvas, document.verification_url, x=qr_x, y=top - qr_size + 2 * mm, size=qr_size)
        canvas.setFont(REGULAR, 5.5)
        canvas.setFillColor(GREY)
        canvas.drawCentredString(qr_x + qr_size / 2, top - qr_size + 0.5 * mm, labels["verify"])
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.6)
        rule = top - qr_size - 1 * mm
        canvas.line(self.margin, rule, PAGE_WIDTH - self.margin, rule)
        canvas.restoreState()
        draw_page_footer(canvas, options, labels)

    # The story.

    def story(self) -> list:
        story: list = [self.parties_table(), Spacer(1, 3 * mm)]
        details = self.details_table()
        if details is not None:
            story += [details, Spacer(1, 3 * mm)]
        story += [self.items_table(), Spacer(1, 2 * mm), self.totals_table(), Spacer(1, 4 * mm)]
        statement_key = f"statement.{self.document.document_type}"
        if statement_key in self.labels:
            story += [Paragraph(escape(self.labels[statement_key]), self.text), Spacer(1, 3 * mm)]
        if self.document.remarks and self.options.shows(OptionalField.REMARKS):
            remarks = f"<b>{escape(self.labels['remarks'])}:</b> {escape(self.document.remarks)}"
            story += [Paragraph(remarks, self.text), Spacer(1, 3 * mm)]
        story.append(self.signatures_table())
        return story

    def boxed(self, rows: list[list], widths: Sequence[float], *, header: bool = False) -> Table:
        table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.4, RULE),
            ("FONTNAME", (0, 0), (-1, -1), REGULAR),  # empty cells would otherwise pull in Helvetica
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
        table.setStyle(TableStyle(style))
        return table

    def parties_table(self) -> Table:
        cells = []
        show_tax_id = self.options.shows(OptionalField.TAX_IDS)
        for label_key, attribute in self.layout.parties:
            lines = party_lines(getattr(self.document, attribute), self.labels, show_tax_id=show_tax_id)
            markup = f"<font name='{BOLD}' size='6.5' color='#555555'>{escape(self.labels[label_key])}</font>"
            if lines:
                markup += f"<br/><b>{escape(lines[0])}</b>"
                markup += "".join(f"<br/>{escape(line)}" for line in lines[1:])
            cells.append(Paragraph(markup, self.text))
        return self.boxed([cells], [self.width / len(cells)] * len(cells))

    def detail_value(self, attribute: str) -> str:
        value = getattr(self.document, attribute)
        if isinstance(value, date):
            return format_date(value, self.document.language)
        if isinstance(value, tuple):
            return ", ".join(value)
        return str(value or "")

    def details_table(self) -> Table | None:
        pairs = []
        for attribute in self.layout.details:
            optional = _DETAIL_OPTIONAL_FIELDS.get(attribute)
            value = self.detail_value(attribute)
            if value and (optional is None or self.options.shows(optional)):
                pairs.append((self.labels[attribute], value))
        if not pairs:
            return None
        rows = []
        for index in range(0, len(pairs), 2):
            row = []
            for label, value in pairs[index : index + 2]:
                row += [Paragraph(escape(label), self.head), Paragraph(escape(value), self.cell)]
            rows.append(row + [""] * (4 - len(row)))
        label_width, value_width = self.width * 0.17, self.width * 0.33
        return self.boxed(rows, [label_width, value_width, label_width, value_width])

    def columns(self) -> dict[str, _Column]:
        language = self.document.language
        return {
            "position": _Column("position", 0.45, lambda index, _item: str(index)),
            "sku": _Column("sku", 1.1, lambda _index, item: item.sku, shown_by=OptionalField.SKU),
            "description": _Column("description", 3.2, lambda _index, item: item.description),
            "hs_code": _Column("hs_code", 1.1, lambda _index, item: item.hs_code, shown_by=OptionalField.HS_CODES),
            "origin_country": _Column(
                "origin_country",
                1.0,
                lambda _index, item: item.origin_country,
                shown_by=OptionalField.ORIGIN_COUNTRY,
            ),
            "quantity": _Column(
                "quantity", 0.9, lambda _index, item: format_decimal(item.quantity, language, None), numeric=True
            ),
            "quantity_delivered": _Column(
                "quantity_delivered",
                1.0,
                lambda _index, item: format_decimal(item.quantity, language, None),
                numeric=True,
            ),
            "unit": _Column("unit", 0.7, lambda _index, item: item.unit),
            "unit_price": _Column(
                "unit_price", 1.1, lambda _index, item: format_decimal(item.unit_price, language), numeric=True
            ),
            "amount": _Column("amount", 1.2, lambda _index, item: format_decimal(item.amount, language), numeric=True),
            "weight_kg": _Column(
                "weight_kg",
                1.0,
                lambda _index, item: format_decimal(item.weight_kg, language, None),
                numeric=True,
                shown_by=OptionalField.WEIGHTS,
            ),
            "packages": _Column("packages", 0.8, lambda _index, item: str(item.packages), numeric=True),
            "packaging": _Column("packaging", 1.0, lambda _index, item: item.packaging),
            "volume_m3": _Column(
                "volume_m3",
                0.9,
                lambda _index, item: "" if item.volume_m3 is None else format_decimal(item.volume_m3, language, None),
                numeric=True,
            ),
            "marks": _Column("marks", 1.1, lambda _index, item: item.marks),
        }

    def visible_columns(self) -> list[_Column]:
        always = _ALWAYS_SHOWN.get(self.document.document_type, set())
        columns = self.columns()
        return [
            columns[key]
            for key in self.layout.columns
            if key in always or columns[key].shown_by is None or self.options.shows(columns[key].shown_by)
        ]

    def items_table(self) -> Table:
        columns = self.visible_columns()
        values = [
            [column.value(index, item) for column in columns] for index, item in enumerate(self.document.items, 1)
        ]
        widths = self.column_widths(columns, values)
        rows: list[list] = [[Paragraph(escape(self.labels[column.label_key]), self.head) for column in columns]]
        for row in values:
            rows.append(
                [
                    Paragraph(escape(value), self.number_cell if column.numeric else self.cell)
                    for column, value in zip(columns, row, strict=True)
                ]
            )
        return self.boxed(rows, widths, header=True)

    def column_widths(self, columns: list[_Column], values: list[list[str]]) -> list[float]:
        """Widths that keep every heading word and short value whole; the rest goes by weight."""
        padding = 7
        minimums = []
        for position, column in enumerate(columns):
            if column.label_key == "description":
                minimums.append(30 * mm)
                continue
            words = [
                pdfmetrics.stringWidth(word, BOLD, self.head.fontSize) for word in self.labels[column.label_key].split()
            ]
            # Values wider than a quarter of the page may wrap: they would squeeze the description.
            words += [
                min(pdfmetrics.stringWidth(word, REGULAR, self.cell.fontSize), self.width / 4)
                for row in values
                for word in row[position].split(" ")
            ]
            minimums.append(max(words, default=0) + padding)
        spare = self.width - sum(minimums)
        if spare <= 0:
            return [self.width * minimum / sum(minimums) for minimum in minimums]
        total_weight = sum(column.weight for column in columns)
        return [
            minimum + spare * column.weight / total_weight for minimum, column in zip(minimums, columns, strict=True)
        ]

    def totals_table(self) -> Table:
        document, language, labels = self.document, self.document.language, self.labels
        values = {
            "total_amount": f"{format_decimal(document.total_amount, language)} {document.currency}",
            "total_packages": str(document.total_packages),
            "total_weight_kg": format_decimal(document.total_weight_kg, language, None),
            "total_volume_m3": ""
            if document.total_volume_m3 is None
            else format_decimal(document.total_volume_m3, language, None),
        }
        rows = []
        for key in self.layout.totals:
            optional = _TOTAL_OPTIONAL_FIELDS.get(key)
            if values[key] and (optional is None or self.options.shows(optional)):
                rows.append(
                    [Paragraph(f"<b>{escape(labels[key])}</b>", self.cell), Paragraph(values[key], self.number_cell)]
                )
        table = Table(rows or [[""]], colWidths=[self.width * 0.3, self.width * 0.2], hAlign="RIGHT")
        table.setStyle(
            TableStyle(
                [
                    ("LINEABOVE", (0, 0), (-1, 0), 0.6, RULE),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ]
            )
        )
        return table

    def signatures_table(self) -> Table:
        labels = self.labels
        cells = []
        for key in self.layout.signatures:
            markup = (
                f"<b>{escape(labels[key])}</b><br/><br/><br/>"
                f"{escape(labels['signature'])}: ______________________<br/>"
                f"{escape(labels['name_and_position'])}: ______________<br/>"
                f"{escape(labels['signature_date'])}: __________   {escape(labels['stamp'])}"
            )
            cells.append(Paragraph(markup, self.small))
        return self.boxed([cells], [self.width / len(cells)] * len(cells))


# The CMR form -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    number: int
    x: float  # millimetres from the left edge
    top: float  # millimetres from the top edge
    width: float
    height: float


# The boxes where the IRU model form has them (A4, millimetres); 6-12 head the goods table.
_CMR_LEFT, _CMR_MIDDLE, _CMR_RIGHT = 10.0, 105.0, 200.0
_HALF = _CMR_MIDDLE - _CMR_LEFT
_GOODS_TOP, _GOODS_BOTTOM, _GOODS_HEADER = 110.0, 174.0, 9.0
_GOODS_COLUMNS: dict[int, tuple[float, float]] = {  # box: (x, width)
    6: (10.0, 26.0),
    7: (36.0, 16.0),
    8: (52.0, 22.0),
    9: (74.0, 64.0),
    10: (138.0, 22.0),
    11: (160.0, 22.0),
    12: (182.0, 18.0),
}
_CMR_BOXES: dict[int, _Box] = {
    1: _Box(1, _CMR_LEFT, 16, _HALF, 30),
    2: _Box(2, _CMR_LEFT, 46, _HALF, 22),
    3: _Box(3, _CMR_LEFT, 68, _HALF, 14),
    4: _Box(4, _CMR_LEFT, 82, _HALF, 14),
    5: _Box(5, _CMR_LEFT, 96, _HALF, 14),
    **{
        number: _Box(number, x, _GOODS_TOP, width, _GOODS_BOTTOM - _GOODS_TOP)
        for number, (x, width) in _GOODS_COLUMNS.items()
    },
    13: _Box(13, _CMR_LEFT, 174, _HALF, 20),
    14: _Box(14, _CMR_LEFT, 194, _HALF, 16),
    15: _Box(15, _CMR_LEFT, 210, _HALF, 16),
    16: _Box(16, _CMR_MIDDLE, 46, _HALF, 22),
    17: _Box(17, _CMR_MIDDLE, 68, _HALF, 14),
    18: _Box(18, _CMR_MIDDLE, 82, _HALF, 28),
    19: _Box(19, _CMR_MIDDLE, 174, _HALF, 20),
    20: _Box(20, _CMR_MIDDLE, 194, _HALF, 32),
    21: _Box(21, _CMR_LEFT, 226, _CMR_RIGHT - _CMR_LEFT, 10),
    22: _Box(22, _CMR_LEFT, 236, (_CMR_RIGHT - _CMR_LEFT) / 3, 40),
    23: _Box(23, _CMR_LEFT + (_CMR_RIGHT - _CMR_LEFT) / 3, 236, (_CMR_RIGHT - _CMR_LEFT) / 3, 40),
    24: _Box(24, _CMR_LEFT + 2 * (_CMR_RIGHT - _CMR_LEFT) / 3, 236, (_CMR_RIGHT - _CMR_LEFT) / 3, 40),
}

_LABEL_SIZE, _NUMBER_SIZE, _VALUE_SIZE, _MIN_VALUE_SIZE = 5.2, 6.5, 7.5, 5.5
_GOODS_SIZE, _GOODS_LEADING = 7.0, 8.4


def _y(top_mm: float) -> float:
    """Canvas y (points from the bottom) of a distance in millimetres from the top edge."""
    return PAGE_HEIGHT - top_mm * mm


class _CmrForm:
    def __init__(self, document: ShipmentDocument, options: TemplateOptions) -> None:
        self.document = document
        self.options = options
        self.labels = labels_for(document.language)
        self.language = document.language

    def render(self) -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=REGULAR)
        document = self.document
        canvas.setTitle(f"CMR {self.labels['number']} {document.number}")
        canvas.setAuthor(document.shipper.name)
        canvas.setSubject(document.verification_url)
        canvas.setCreator("Manifest")
        canvas.setLineWidth(0.5)

        self.draw_margins(canvas)
        self.draw_title_block(canvas)
        contents = self.box_contents()
        remaining: list[LineItem] = []
        # Box by box in number order, each label followed by its value: text extraction, copy
        # and screen readers then meet "2 Consignee ..." right before the consignee.
        for number, box in sorted(_CMR_BOXES.items()):
            self.draw_box_frame(canvas, box)
            if number in contents:
                self.fill(canvas, number, contents[number], bottom_gap=0.2 if number == 21 else 1.0)
            elif number == 12:
                remaining = self.draw_goods(canvas, list(self.document.items))
            elif number == 20:
                self.draw_charges_grid(canvas)
        draw_page_footer(canvas, self.options, self.labels)
        while remaining:
            canvas.showPage()
            remaining = self.draw_annex_page(canvas, remaining)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    # Furniture and title.

    def draw_margins(self, canvas: Canvas) -> None:
        text_left = _CMR_LEFT * mm
        if self.options.logo_png:
            width = draw_logo(
                canvas, self.options.logo_png, x=text_left, top=_y(3), max_width=40 * mm, max_height=11 * mm
            )
            text_left += width + 4 * mm
        if self.options.header_text:
            canvas.setFont(REGULAR, 7)
            canvas.setFillColor(GREY)
            canvas.drawString(text_left, _y(9), self.options.header_text[:160])
            canvas.setFillColor(colors.black)

    def draw_title_block(self, canvas: Canvas) -> None:
        labels, document = self.labels, self.document
        qr_size = 26
        x = _CMR_MIDDLE + 2
        width = _CMR_RIGHT - _CMR_MIDDLE - qr_size - 4
        canvas.setFillColor(colors.black)
        top = 16 + 4
        for line in simpleSplit(labels[f"title.{DocumentType.CMR}"], BOLD, 8, width * mm):
            canvas.setFont(BOLD, 8)
            canvas.drawString(x * mm, _y(top), line)
            top += 3.4
        canvas.setFont(BOLD, 15)
        canvas.drawString(x * mm, _y(top + 5), labels["cmr.subtitle"])
        canvas.setFont(BOLD, 9)
        canvas.drawString((x + 17) * mm, _y(top + 5), f"{labels['number']} {document.number}")
        top += 8.5
        canvas.setFont(REGULAR, 4.8)
        for line in simpleSplit(labels["cmr.clause"], REGULAR, 4.8, width * mm)[:4]:
            canvas.drawString(x * mm, _y(top), line)
            top += 2.1
        qr_x = _CMR_RIGHT - qr_size - 1
        draw_qr_code(canvas, document.verification_url, x=qr_x * mm, y=_y(16 + 1 + qr_size), size=qr_size * mm)
        canvas.setFont(REGULAR, 4.5)
        canvas.setFillColor(GREY)
        canvas.drawCentredString((qr_x + qr_size / 2) * mm, _y(16 + 1 + qr_size + 1.5), labels["verify"])
        canvas.setFillColor(colors.black)

    # Boxes.

    def draw_box_frame(self, canvas: Canvas, box: _Box) -> None:
        """The box's rectangle and its number and label, wrapped under a hanging indent."""
        canvas.setStrokeColor(colors.black)
        canvas.rect(box.x * mm, _y(box.top + box.height), box.width * mm, box.height * mm)
        number = f"{box.number} "
        indent = pdfmetrics.stringWidth(number, BOLD, _NUMBER_SIZE)
        room = box.width * mm - 2.4 * mm - indent
        lines = simpleSplit(self.labels[f"cmr.{box.number}"], REGULAR, _LABEL_SIZE, room) or [""]
        left, baseline = (box.x + 1.2) * mm, _y(box.top + 2.6)
        text = canvas.beginText(left, baseline)
        text.setFont(BOLD, _NUMBER_SIZE)
        text.textOut(number)
        text.setFont(REGULAR, _LABEL_SIZE)
        text.textOut(lines[0])
        canvas.drawText(text)
        canvas.setFont(REGULAR, _LABEL_SIZE)
        for index, line in enumerate(lines[1:], start=1):
            canvas.drawString(left + indent, baseline - index * _LABEL_SIZE * 1.15, line)

    def label_depth(self, box: _Box) -> float:
        """How far below the box's top (mm) its label ends and its content may start."""
        indent = pdfmetrics.stringWidth(f"{box.number} ", BOLD, _NUMBER_SIZE)
        room = box.width * mm - 2.4 * mm - indent
        lines = len(simpleSplit(self.labels[f"cmr.{box.number}"], REGULAR, _LABEL_SIZE, room) or [""])
        return 2.6 + (lines - 1) * _LABEL_SIZE * 1.15 / mm + 1.6

    def fill(self, canvas: Canvas, number: int, lines: Iterable[tuple[str, bool]], *, bottom_gap: float = 1.0) -> None:
        """Write (text, bold) lines into a box, shrinking the type and then cutting to make them fit."""
        box = _CMR_BOXES[number]
        lines = [(text, bold) for text, bold in lines if text]
        if not lines:
            return
        depth = self.label_depth(box)
        width = (box.width - 3) * mm
        height = (box.height - depth - bottom_gap) * mm
        size = _VALUE_SIZE
        while True:
            leading = size * 1.18
            wrapped = [
                (part, bold)
                for text, bold in lines
                for part in (simpleSplit(text, BOLD if bold else REGULAR, size, width) or [""])
            ]
            if len(wrapped) * leading <= height or size <= _MIN_VALUE_SIZE:
                break
            size -= 0.5
        fitting = max(1, int(height // leading))
        if len(wrapped) > fitting:
            wrapped = wrapped[:fitting]
            last, bold = wrapped[-1]
            wrapped[-1] = (last.rstrip()[:-1] + "…", bold)
        baseline = _y(box.top + depth) - size
        for index, (text, bold) in enumerate(wrapped):
            canvas.setFont(BOLD if bold else REGULAR, size)
            canvas.drawString((box.x + 1.5) * mm, baseline - index * leading, text)

    def party(self, party: Party | None) -> list[tuple[str, bool]]:
        lines = party_lines(party, self.labels, show_tax_id=self.options.shows(OptionalField.TAX_IDS))
        return [(line, index == 0) for index, line in enumerate(lines)]

    def box_contents(self) -> dict[int, list[tuple[str, bool]]]:
        """What each box other than the goods (6-12) and the charges grid (20) says."""
        document, labels, language = self.document, self.labels, self.language
        shows = self.options.shows
        carrier = self.party(document.carrier)
        if document.vehicle and shows(OptionalField.VEHICLE):
            carrier.append((f"{labels['vehicle']}: {document.vehicle}", False))
        remarks = document.remarks if shows(OptionalField.REMARKS) else ""
        issued = f"{document.place_of_issue}   {labels['cmr.on']} {format_date(document.issue_date, language)}"
        return {
            1: self.party(document.shipper),
            2: self.party(document.consignee),
            3: [(document.place_of_delivery, False)],
            4: [(document.place_of_taking_over, False), (format_date(document.taking_over_date, language), False)],
            5: [(", ".join(document.documents_attached), False)],
            13: [(document.sender_instructions, False)],
            14: [(document.terms_of_delivery, False)],
            15: [],
            16: carrier,
            17: [],
            18: [(document.carrier_reservations, False)],
            19: [(document.special_agreements, False), (remarks, False)],
            21: [(issued.strip(), False)],
            22: [(document.shipper.name, False)],
            23: [(document.carrier.name if document.carrier else "", False)],
            24: [(document.received_by, False), (format_date(document.delivery_date, language), False)],
        }

    def draw_charges_grid(self, canvas: Canvas) -> None:
        """Box 20's grid (charges by sender and consignee), left blank to be completed by hand."""
        box, labels = _CMR_BOXES[20], self.labels
        top = box.top + self.label_depth(box)
        columns = [box.x, box.x + 38, box.x + 57, box.x + 76, box.x + box.width]
        headings = ["", labels["cmr.sender"], labels["currency"], labels["consignee"]]
        rows = ["", labels["cmr.carriage_charges"], labels["cmr.supplementary_charges"], labels["total"]]
        row_height = (box.top + box.height - top - 1) / len(rows)
        canvas.setLineWidth(0.3)
        canvas.setFont(REGULAR, 5)
        for index, heading in enumerate(rows):
            y = top + index * row_height
            if index:
                canvas.line(box.x * mm, _y(y), (box.x + box.width) * mm, _y(y))
            canvas.drawString((box.x + 1.2) * mm, _y(y + row_height - 1.2), heading)
        for index, heading in enumerate(headings):
            if index:
                canvas.line(columns[index] * mm, _y(top), columns[index] * mm, _y(box.top + box.height))
            canvas.drawString((columns[index] + 1) * mm, _y(top + row_height - 1.2), heading)
        canvas.setLineWidth(0.5)

    # Goods (boxes 6-12).

    def goods_cells(self, item: LineItem) -> dict[int, str]:
        shows, language = self.options.shows, self.language
        return {
            6: item.marks,
            7: str(item.packages),
            8: item.packaging,
            9: item.description,
            10: item.hs_code if shows(OptionalField.HS_CODES) else "",
            11: format_decimal(item.weight_kg, language, None) if shows(OptionalField.WEIGHTS) else "",
            12: "" if item.volume_m3 is None else format_decimal(item.volume_m3, language, None),
        }

    def draw_goods_rows(self, canvas: Canvas, items: list[LineItem], *, top: float, bottom: float) -> list[LineItem]:
        """Write items as rows from `top` down to `bottom` (mm); return the items that did not fit."""
        for position, item in enumerate(items):
            cells = self.goods_cells(item)
            wrapped = {
                number: simpleSplit(text, REGULAR, _GOODS_SIZE, (_GOODS_COLUMNS[number][1] - 2.4) * mm) or [""]
                for number, text in cells.items()
            }
            height = max(len(lines) for lines in wrapped.values()) * _GOODS_LEADING / mm + 1.2
            if top + height > bottom:
                return items[position:]
            canvas.setFont(REGULAR, _GOODS_SIZE)
            for number, lines in wrapped.items():
                x, width = _GOODS_COLUMNS[number]
                numeric = number in (7, 11, 12)
                for index, line in enumerate(lines):
                    baseline = _y(top + 0.6) - _GOODS_SIZE - index * _GOODS_LEADING
                    if numeric:
                        canvas.drawRightString((x + width - 1.2) * mm, baseline, line)
                    else:
                        canvas.drawString((x + 1.2) * mm, baseline, line)
            top += height
        return []

    def draw_goods(self, canvas: Canvas, items: list[LineItem]) -> list[LineItem]:
        header_bottom = _GOODS_TOP + _GOODS_HEADER
        totals_top = _GOODS_BOTTOM - 6
        canvas.line(_CMR_LEFT * mm, _y(header_bottom), _CMR_RIGHT * mm, _y(header_bottom))
        canvas.line(_CMR_LEFT * mm, _y(totals_top), _CMR_RIGHT * mm, _y(totals_top))
        remaining = self.draw_goods_rows(canvas, items, top=header_bottom + 0.5, bottom=totals_top - 3.5)
        if remaining:
            canvas.setFont(REGULAR, 6.5)
            x = _GOODS_COLUMNS[9][0]
            note = f"… {self.labels['cmr.continued']} ({len(remaining)})"
            canvas.drawString((x + 1.2) * mm, _y(totals_top - 1), note)
        self.draw_goods_totals(canvas, top=totals_top)
        return remaining

    def draw_goods_totals(self, canvas: Canvas, *, top: float) -> None:
        document, language = self.document, self.language
        baseline = _y(top + 4.2)
        canvas.setFont(BOLD, _GOODS_SIZE)
        canvas.drawString((_CMR_LEFT + 1.2) * mm, baseline, self.labels["total"])
        x, width = _GOODS_COLUMNS[7]
        canvas.drawRightString((x + width - 1.2) * mm, baseline, str(document.total_packages))
        if self.options.shows(OptionalField.WEIGHTS):
            x, width = _GOODS_COLUMNS[11]
            weight = format_decimal(document.total_weight_kg, language, None)
            canvas.drawRightString((x + width - 1.2) * mm, baseline, weight)
        if document.total_volume_m3 is not None:
            x, width = _GOODS_COLUMNS[12]
            volume = format_decimal(document.total_volume_m3, language, None)
            canvas.drawRightString((x + width - 1.2) * mm, baseline, volume)

    def draw_annex_page(self, canvas: Canvas, items: list[LineItem]) -> list[LineItem]:
        """An annex page continuing boxes 6-12; returns what is left for the next one."""
        labels, document = self.labels, self.document
        qr_size = 22
        canvas.setFont(BOLD, 10)
        canvas.drawString(_CMR_LEFT * mm, _y(16), f"{labels['cmr.annex']} CMR {labels['number']} {document.number}")
        canvas.setFont(REGULAR, 8)
        canvas.drawString(_CMR_LEFT * mm, _y(21), format_date(document.issue_date, self.language))
        draw_qr_code(
            canvas, document.verification_url, x=(_CMR_RIGHT - qr_size) * mm, y=_y(8 + qr_size), size=qr_size * mm
        )
        top, bottom = 34.0, 270.0
        for number, (x, width) in _GOODS_COLUMNS.items():
            box = _Box(number, x, top, width, bottom - top)
            self.draw_box_frame(canvas, box)
        canvas.line(_CMR_LEFT * mm, _y(top + _GOODS_HEADER), _CMR_RIGHT * mm, _y(top + _GOODS_HEADER))
        remaining = self.draw_goods_rows(canvas, items, top=top + _GOODS_HEADER + 0.5, bottom=bottom - 1)
        draw_page_footer(canvas, self.options, self.labels)
        return remaining
