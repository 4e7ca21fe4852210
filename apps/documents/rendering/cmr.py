"""The CMR consignment note, drawn box by box on a canvas where the IRU model form has them."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from apps.core.money import minor_units
from apps.documents.content import (
    DocumentType,
    LineItem,
    OptionalField,
    Party,
    PaymentInstructions,
    ShipmentDocument,
    TemplateOptions,
)
from apps.documents.labels import labels_for
from apps.documents.rendering.drawing import (
    GREY,
    PAGE_HEIGHT,
    draw_draft_mark,
    draw_logo,
    draw_page_footer,
    draw_qr_code,
)
from apps.documents.rendering.fonts import BOLD, REGULAR
from apps.documents.rendering.formatting import (
    description_with_dangerous_goods,
    format_date,
    format_decimal,
    party_lines,
)


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


class CmrForm:
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
        self.finish_page(canvas)
        while remaining:
            canvas.showPage()
            remaining = self.draw_annex_page(canvas, remaining)
            self.finish_page(canvas)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    # Furniture and title.

    def finish_page(self, canvas: Canvas) -> None:
        if self.document.is_draft:
            draw_draft_mark(canvas, self.labels["draft"])

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
            13: [(document.sender_instructions, False), (self.references_line(), False)],
            14: [(self.payment_line(), False), (document.terms_of_delivery, False)],
            15: [(document.cash_on_delivery, False)],
            16: carrier,
            17: [line for successive in document.successive_carriers for line in self.party(successive)],
            18: [(document.carrier_reservations, False)],
            19: [(document.special_agreements, False), (remarks, False)],
            21: [(issued.strip(), False)],
            22: [(document.shipper.name, False)],
            23: [(document.carrier.name if document.carrier else "", False)],
            24: [(document.received_by, False), (format_date(document.delivery_date, language), False)],
        }

    def payment_line(self) -> str:
        instructions = self.document.payment_instructions
        return self.labels[f"payment.{instructions}"] if instructions else ""

    def references_line(self) -> str:
        references = self.document.references
        return f"{self.labels['references']}: {', '.join(references)}" if references else ""

    def draw_charges_grid(self, canvas: Canvas) -> None:
        """Box 20's grid (charges by sender and consignee): the carriage charge, when the document
        has one, in the column of whoever pays it (box 14); the rest completed by hand."""
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
        document = self.document
        if document.carriage_charges is None:
            return
        payer = 3 if document.payment_instructions == PaymentInstructions.CARRIAGE_FORWARD else 1
        amount = format_decimal(document.carriage_charges, self.language, minor_units(document.currency))
        canvas.setFont(REGULAR, _GOODS_SIZE - 1)
        for row in (1, 3):  # the carriage charges and the total
            baseline = _y(top + (row + 1) * row_height - 1.2)
            canvas.drawString((columns[payer] + 1) * mm, baseline, amount)
            canvas.drawString((columns[2] + 1) * mm, baseline, document.currency)

    # Goods (boxes 6-12).

    def goods_cells(self, item: LineItem) -> dict[int, str]:
        shows, language = self.options.shows, self.language
        return {
            6: item.marks,
            7: str(item.packages),
            8: item.packaging,
            9: description_with_dangerous_goods(item),
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
