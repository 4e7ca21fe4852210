"""The five flowing documents (invoice, bill of lading, packing list, certificate of origin,
proof of delivery): platypus flows long item lists across pages."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from apps.documents.content import (
    DocumentType,
    LineItem,
    OptionalField,
    ShipmentDocument,
    TemplateOptions,
)
from apps.documents.labels import labels_for
from apps.documents.rendering.drawing import (
    GREY,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RULE,
    SHADE,
    draw_draft_mark,
    draw_logo,
    draw_page_footer,
    draw_qr_code,
)
from apps.documents.rendering.fonts import BOLD, REGULAR
from apps.documents.rendering.formatting import (
    description_with_dangerous_goods,
    format_date,
    format_datetime,
    format_decimal,
    party_lines,
)


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
    columns: tuple[str, ...]  # keys of FlowingDocument.columns()
    totals: tuple[str, ...]  # total_amount, total_packages, total_weight_kg, total_volume_m3
    signatures: tuple[str, ...]  # label keys of the signing parties


_LAYOUTS: dict[DocumentType, _Layout] = {
    DocumentType.COMMERCIAL_INVOICE: _Layout(
        parties=(("seller", "shipper"), ("buyer", "consignee")),
        details=(
            "terms_of_delivery",
            "currency",
            "place_of_taking_over",
            "place_of_delivery",
            "vehicle",
            "references",
        ),
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
        parties=(
            ("shipper", "shipper"),
            ("consignee", "consignee"),
            ("notify_party", "notify_party"),
            ("carrier", "carrier"),
        ),
        details=(
            "place_of_taking_over",
            "taking_over_date",
            "port_of_loading",
            "port_of_discharge",
            "place_of_delivery",
            "vehicle",
            "payment_instructions",
            "terms_of_delivery",
            "place_of_issue",
            "references",
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
            "delivered_at",
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


class FlowingDocument:
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
        if document.is_draft:
            draw_draft_mark(canvas, labels["draft"])

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
        if attribute == "payment_instructions":
            return self.labels[f"payment.{value}"] if value else ""
        if isinstance(value, datetime):
            return format_datetime(value, self.document.language)
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
            "description": _Column("description", 3.2, lambda _index, item: description_with_dangerous_goods(item)),
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
