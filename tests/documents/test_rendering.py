# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""Rendering the six shipping documents from plain data: parsable PDFs, labels and values in both
languages (Cyrillic included), the QR code read back from the rendered page, the CMR's boxes.

Pure tests: no database, no Django models.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image
from pypdf import PdfReader

from apps.documents.content import (
    DocumentType,
    LineItem,
    OptionalField,
    Party,
    ShipmentDocument,
    TemplateOptions,
)
from apps.documents.labels import CMR_BOX_NUMBERS, ENGLISH, LABELS, RUSSIAN
from apps.documents.rendering import render_document
from tests.documents.reading import qr_codes_on

VERIFICATION_URL = "https://manifest.example/documents/5f0c2a6e-3b1d-4c8e-9a7f-2d4b6e8f0a1c/verify"
CONSIGNEE = "ООО «Волга Карго»"
LANGUAGES = ("ru", "en")


def an_item(position: int = 1, **changes) -> LineItem:
    values = {
        "sku": f"BRG-6204-{position}",
        "description": "Подшипник роликовый 6204-2RS" if position % 2 else "Helical gearbox 5.5 kW",
        "quantity": Decimal("12"),
        "unit": "pcs",
        "unit_price": Decimal("1520.50"),
        "currency": "EUR",
        "weight_kg": Decimal("84.5"),
        "origin_country": "DE",
        "hs_code": "8482100009",
        "packages": 2,
        "packaging": "pallet",
        "volume_m3": Decimal("1.2"),
        "marks": f"VK-{position:03d}",
    }
    return LineItem(**{**values, **changes})


def a_shipment(document_type: DocumentType, language: str = "ru", *, items: int = 2, **changes) -> ShipmentDocument:
    values = {
        "document_type": document_type,
        "number": "MF-2025-000123",
        "issue_date": date(2025, 3, 14),
        "language": language,
        "shipper": Party("Müller Maschinenbau GmbH", ("Industriestraße 12", "70565 Stuttgart"), "DE", "DE123456789"),
        "consignee": Party(CONSIGNEE, ("ул. Промышленная, д. 5", "Самара, 443000"), "RU", "6312345678"),
        "carrier": Party("ТрансЛайн ООО", ("Москва, ул. Складочная, 1",), "RU", "7701234567"),
        "items": tuple(an_item(position) for position in range(1, items + 1)),
        "currency": "EUR",
        "verification_url": VERIFICATION_URL,
        "place_of_taking_over": "Stuttgart, DE",
        "place_of_delivery": "Самара, RU",
        "taking_over_date": date(2025, 3, 15),
        "delivery_date": date(2025, 3, 22),
        "vehicle": "А123ВС 77 / ВР 1234 77",
        "remarks": "Хрупкий груз",
        "place_of_issue": "Stuttgart",
        "received_by": "Иванов И. И.",
        "port_of_loading": "Hamburg",
        "port_of_discharge": "Saint Petersburg",
        "terms_of_delivery": "FCA Stuttgart (Incoterms 2020)",
    }
    return ShipmentDocument(**{**values, **changes})


def text_of(pdf: bytes, page: int | None = None) -> str:
    """The PDF's extracted text with whitespace (line breaks, no-break spaces) collapsed."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    chosen = pages if page is None else [pages[page]]
    return " ".join(" ".join(p.extract_text() for p in chosen).split())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("document_type", list(DocumentType))
def test_each_document_type_renders_a_pdf_with_its_title_parties_and_goods(document_type, language):
    # given
    shipment = a_shipment(document_type, language)
    labels = LABELS[language]

    # when
    pdf = render_document(shipment)

    # then
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert labels[f"title.{document_type}"] in text
    assert f"{labels['number']} MF-2025-000123" in text
    assert CONSIGNEE in text
    assert "Müller Maschinenbau GmbH" in text
    assert "Подшипник роликовый 6204-2RS" in text
    assert "Helical gearbox 5.5 kW" in text


@pytest.mark.parametrize("document_type", list(DocumentType))
def test_russian_documents_carry_russian_labels_and_english_ones_english(document_type):
    # given
    russian, english = a_shipment(document_type, "ru"), a_shipment(document_type, "en")

    # when
    russian_text, english_text = text_of(render_document(russian)), text_of(render_document(english))

    # then
    assert RUSSIAN[f"title.{document_type}"] in russian_text
    assert ENGLISH[f"title.{document_type}"] not in russian_text
    assert ENGLISH[f"title.{document_type}"] in english_text
    assert RUSSIAN[f"title.{document_type}"] not in english_text


@pytest.mark.parametrize(
    ("document_type", "party_labels"),
    [
        (DocumentType.COMMERCIAL_INVOICE, ("seller", "buyer")),
        (DocumentType.BILL_OF_LADING, ("shipper", "consignee", "carrier")),
        (DocumentType.PACKING_LIST, ("shipper", "consignee")),
        (DocumentType.CERTIFICATE_OF_ORIGIN, ("exporter", "consignee")),
        (DocumentType.PROOF_OF_DELIVERY, ("shipper", "consignee", "carrier")),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_party_is_printed_under_its_label(document_type, party_labels, language):
    # given
    shipment = a_shipment(document_type, language)

    # when
    text = text_of(render_document(shipment))

    # then
    for key in party_labels:
        assert LABELS[language][key] in text
    if "carrier" in party_labels:
        assert "ТрансЛайн ООО" in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("document_type", list(DocumentType))
def test_the_qr_code_read_back_from_the_rendered_page_is_the_verification_url(document_type, language):
    # given
    pdf = render_document(a_shipment(document_type, language))

    # when
    decoded = qr_codes_on(pdf)

    # then
    assert decoded == [VERIFICATION_URL]


@pytest.mark.parametrize("language", LANGUAGES)
def test_cmr_shows_its_numbered_boxes_1_to_24_labelled_in_its_language(language):
    # given
    labels = LABELS[language]

    # when
    text = text_of(render_document(a_shipment(DocumentType.CMR, language)))

    # then
    for number in CMR_BOX_NUMBERS:
        assert f"{number} {labels[f'cmr.{number}']}" in text, number
    assert labels["cmr.clause"] in text


def test_cmr_writes_each_value_into_its_own_box():
    # given
    shipment = a_shipment(DocumentType.CMR, "ru")

    # when
    text = text_of(render_document(shipment))

    # then the consignee stands between box 2's label and box 3's, the carrier after box 16's
    assert text.index("2 " + RUSSIAN["cmr.2"]) < text.index(CONSIGNEE) < text.index("3 " + RUSSIAN["cmr.3"])
    assert text.index("16 " + RUSSIAN["cmr.16"]) < text.index("ТрансЛайн ООО")
    assert text.index("4 " + RUSSIAN["cmr.4"]) < text.index("15.03.2025") < text.index("5 " + RUSSIAN["cmr.5"])
    assert "Транспортное средство: А123ВС 77 / ВР 1234 77" in text


def test_a_cmr_with_more_goods_than_the_form_holds_continues_on_an_annex_page():
    # given
    shipment = a_shipment(DocumentType.CMR, "en", items=40)

    # when
    pdf = render_document(shipment)

    # then
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
    first, annex = text_of(pdf, 0), text_of(pdf, 1)
    assert ENGLISH["cmr.continued"] in first
    assert "VK-040" in annex and "VK-040" not in first
    assert f"{ENGLISH['cmr.annex']} CMR No. MF-2025-000123" in annex
    assert qr_codes_on(pdf, page=1) == [VERIFICATION_URL]


def test_numbers_and_dates_are_written_the_way_each_language_writes_them():
    # given
    russian = a_shipment(DocumentType.COMMERCIAL_INVOICE, "ru")
    english = a_shipment(DocumentType.COMMERCIAL_INVOICE, "en")

    # when
    russian_text, english_text = text_of(render_document(russian)), text_of(render_document(english))

    # then: 2 items x 12 x 1,520.50 = 36,492.00
    assert "14.03.2025" in russian_text and "36 492,00 EUR" in russian_text
    assert "2025-03-14" in english_text and "36,492.00 EUR" in english_text


def test_the_fonts_are_embedded_so_no_reader_substitutes_its_own():
    # given
    pdf = render_document(a_shipment(DocumentType.PACKING_LIST, "ru"))

    # when
    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]

    # then
    assert fonts
    for reference in fonts.values():
        font = reference.get_object()
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        assert "/FontFile2" in descendant["/FontDescriptor"], font["/BaseFont"]


def test_the_template_prints_its_header_footer_and_logo():
    # given
    logo = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 80, 160)).save(logo, format="PNG")
    options = TemplateOptions(
        header_text="Волга Карго — логистика", footer_text="Tel. +7 846 000-00-00", logo_png=logo.getvalue()
    )

    for document_type in (DocumentType.COMMERCIAL_INVOICE, DocumentType.CMR):
        # when
        pdf = render_document(a_shipment(document_type, "ru"), options)

        # then
        text = text_of(pdf)
        assert "Волга Карго — логистика" in text
        assert "Tel. +7 846 000-00-00" in text
        assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


def test_a_template_hides_the_optional_fields_it_switches_off():
    # given
    shipment = a_shipment(DocumentType.COMMERCIAL_INVOICE, "en")
    hidden = {OptionalField.TAX_IDS, OptionalField.HS_CODES, OptionalField.VEHICLE, OptionalField.REMARKS}
    plain = TemplateOptions(visible_fields=frozenset(OptionalField) - hidden)

    # when
    full_text, plain_text = text_of(render_document(shipment)), text_of(render_document(shipment, plain))

    # then
    for value in ("6312345678", "8482100009", "А123ВС 77", "Хрупкий груз"):
        assert value in full_text
        assert value not in plain_text
    assert "BRG-6204-1" in plain_text


def test_the_certificate_of_origin_shows_the_origin_even_when_the_template_hides_it():
    # given
    shipment = a_shipment(DocumentType.CERTIFICATE_OF_ORIGIN, "en", items=1)
    shipment = dataclasses.replace(shipment, items=(an_item(1, origin_country="Italy"),))
    options = TemplateOptions(visible_fields=frozenset(OptionalField) - {OptionalField.ORIGIN_COUNTRY})

    # when
    text = text_of(render_document(shipment, options))

    # then
    assert ENGLISH["origin_country"] in text
    assert "Italy" in text


def test_a_long_party_address_is_cut_to_its_box_on_the_cmr_rather_than_spilling_over():
    # given
    long_address = tuple(f"Корпус {number}, строение {number}, этаж {number}" for number in range(30))
    shipment = a_shipment(DocumentType.CMR, "ru", consignee=Party(CONSIGNEE, long_address, "RU"))

    # when
    text = text_of(render_document(shipment))

    # then the first lines are there, the last are not, and box 3 still follows
    assert "Корпус 0, строение 0" in text
    assert "Корпус 29, строение 29" not in text
    assert "3 " + RUSSIAN["cmr.3"] in text


def test_the_russian_and_english_label_tables_have_the_same_keys():
    assert set(RUSSIAN) == set(ENGLISH)
    assert all(value.strip() for value in [*RUSSIAN.values(), *ENGLISH.values()])


def test_a_document_refuses_items_priced_in_another_currency():
    with pytest.raises(ValueError, match="USD"):
        dataclasses.replace(a_shipment(DocumentType.COMMERCIAL_INVOICE), items=(an_item(1, currency="USD"),))


def test_a_document_refuses_an_unknown_language_and_a_missing_verification_url():
    with pytest.raises(ValueError, match="language"):
        a_shipment(DocumentType.CMR, "de")
    with pytest.raises(ValueError, match="verification"):
        a_shipment(DocumentType.CMR, verification_url="")


# --- Every box filled (issue 16): instructions, successive carriers, charges, notify party, draft ---


def a_full_shipment(document_type: DocumentType, language: str, **changes) -> ShipmentDocument:
    values = {
        "items": (an_item(1, dangerous_goods="UN 1263, ADR 3, PG III"),),
        "shipper": Party(
            "Müller Maschinenbau GmbH",
            ("Industriestraße 12", "70565 Stuttgart"),
            "DE",
            "DE123456789",
            contact="Anna Müller, +49 711 555 0100",
        ),
        "notify_party": Party("Baltic Agency OÜ", ("Sadama 5", "10111 Tallinn"), "EE"),
        "successive_carriers": (Party("Vistula Cargo Sp. z o.o.", ("ul. Portowa 3", "80-001 Gdańsk"), "PL"),),
        "sender_instructions": "Keep dry; load at ramp 4",
        "payment_instructions": "carriage_forward",
        "cash_on_delivery": "1250.00 EUR",
        "carriage_charges": Decimal("1115.10"),
        "special_agreements": "Tail-lift vehicle",
        "carrier_reservations": "Two pallets wrapped loosely",
        "references": ("PO-77821", "BK-2026-000042"),
    }
    values = {**values, **changes}
    items = values.pop("items")
    return dataclasses.replace(a_shipment(document_type, language, items=1, **values), items=items)


def _between(text: str, value: str, after: str, before: str) -> None:
    assert text.index(after) < text.index(value) < text.index(before), (value, after, before)


@pytest.mark.parametrize("language", LANGUAGES)
def test_cmr_fills_the_instruction_carrier_and_charges_boxes(language):
    labels = LABELS[language]
    text = text_of(render_document(a_full_shipment(DocumentType.CMR, language)))

    def box(number: int) -> str:
        return f"{number} {labels[f'cmr.{number}']}"

    _between(text, "Anna Müller, +49 711 555 0100", box(1), box(2))
    _between(text, "Keep dry; load at ramp 4", box(13), box(14))
    _between(text, f"{labels['references']}: PO-77821, BK-2026-000042", box(13), box(14))
    _between(text, labels["payment.carriage_forward"], box(14), box(15))
    _between(text, "1250.00 EUR", box(15), box(16))
    _between(text, "Vistula Cargo Sp. z o.o.", box(17), box(18))
    _between(text, "Two pallets wrapped loosely", box(18), box(19))
    _between(text, "Tail-lift vehicle", box(19), box(20))
    amount = "1 115,10" if language == "ru" else "1,115.10"
    _between(text, amount, box(20), box(21))
    assert "(UN 1263, ADR 3, PG III)" in text
    assert labels["draft"] not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_bill_of_lading_names_the_notify_party_and_who_pays_the_freight(language):
    labels = LABELS[language]
    text = text_of(render_document(a_full_shipment(DocumentType.BILL_OF_LADING, language)))

    _between(text, "Baltic Agency OÜ", labels["notify_party"], labels["carrier"])
    assert f"{labels['payment_instructions']} {labels['payment.carriage_forward']}" in text
    assert "PO-77821, BK-2026-000042" in text
    assert "(UN 1263, ADR 3, PG III)" in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("document_type", list(DocumentType))
def test_a_draft_is_marked_on_every_page_and_a_final_document_nowhere(document_type, language):
    labels = LABELS[language]
    many = tuple(an_item(position) for position in range(1, 40))
    draft = render_document(a_full_shipment(document_type, language, items=many, is_draft=True))
    final = render_document(a_full_shipment(document_type, language, items=many))

    pages = PdfReader(io.BytesIO(draft)).pages
    assert len(pages) > 1
    assert all(labels["draft"] in text_of(draft, page) for page in range(len(pages)))
    assert labels["draft"] not in text_of(final)
