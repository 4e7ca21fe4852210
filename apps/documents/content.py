"""What a shipping document says, as plain frozen data: no models, no Django.

The orders context builds a `ShipmentDocument` from an order; a template row becomes a
`TemplateOptions`; `apps.documents.rendering.render_document` turns both into PDF bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "en")


class DocumentType(enum.StrEnum):
    COMMERCIAL_INVOICE = "commercial_invoice"
    CMR = "cmr"
    BILL_OF_LADING = "bill_of_lading"
    PACKING_LIST = "packing_list"
    CERTIFICATE_OF_ORIGIN = "certificate_of_origin"
    PROOF_OF_DELIVERY = "proof_of_delivery"


class PaymentInstructions(enum.StrEnum):
    CARRIAGE_PAID = "carriage_paid"  # by the sender
    CARRIAGE_FORWARD = "carriage_forward"  # by the consignee


class OptionalField(enum.StrEnum):
    """Parts of a document a template may hide; everything else always shows."""

    TAX_IDS = "tax_ids"
    SKU = "sku"
    HS_CODES = "hs_codes"
    ORIGIN_COUNTRY = "origin_country"
    WEIGHTS = "weights"
    VEHICLE = "vehicle"
    REMARKS = "remarks"


@dataclass(frozen=True)
class Party:
    name: str
    address_lines: tuple[str, ...] = ()
    country: str = ""
    tax_id: str = ""
    # Contact person, phone, e-mail: one printed line.
    contact: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "address_lines", tuple(self.address_lines))


@dataclass(frozen=True)
class LineItem:
    sku: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    currency: str
    weight_kg: Decimal
    origin_country: str
    hs_code: str = ""
    packages: int = 1
    packaging: str = ""
    volume_m3: Decimal | None = None
    marks: str = ""
    # "UN 1203, ADR 3, PG II": printed with the description (CMR box 9).
    dangerous_goods: str = ""

    def __post_init__(self) -> None:
        for name in ("quantity", "unit_price", "weight_kg"):
            object.__setattr__(self, name, Decimal(getattr(self, name)))
        if self.volume_m3 is not None:
            object.__setattr__(self, "volume_m3", Decimal(self.volume_m3))
        if self.quantity <= 0:
            raise ValueError(f"quantity of {self.sku!r} must be positive")
        if self.unit_price < 0 or self.weight_kg < 0 or self.packages < 0:
            raise ValueError(f"price, weight and packages of {self.sku!r} cannot be negative")

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class ShipmentDocument:
    """One shipping document's content; totals are computed from the items."""

    document_type: DocumentType
    number: str
    issue_date: date
    language: Language
    shipper: Party
    consignee: Party
    items: tuple[LineItem, ...]
    currency: str
    verification_url: str
    carrier: Party | None = None
    place_of_taking_over: str = ""
    place_of_delivery: str = ""
    taking_over_date: date | None = None
    delivery_date: date | None = None
    vehicle: str = ""
    remarks: str = ""
    # Where the document was made out (CMR box 21, certificate of origin).
    place_of_issue: str = ""
    documents_attached: tuple[str, ...] = ()
    # CMR boxes 13, 18 and 19.
    sender_instructions: str = ""
    carrier_reservations: str = ""
    special_agreements: str = ""
    # Incoterms or the CMR payment instruction (box 14).
    terms_of_delivery: str = ""
    # Bill of lading.
    port_of_loading: str = ""
    port_of_discharge: str = ""
    # Proof of delivery: who signed for the goods, and when they were delivered.
    received_by: str = ""
    delivered_at: datetime | None = None
    # Bill of lading: who is told of the arrival.
    notify_party: Party | None = None
    # CMR box 17.
    successive_carriers: tuple[Party, ...] = ()
    # CMR box 14 and the bill of lading's "freight payable": carriage paid by the sender, or
    # forward (by the consignee); "" when not given.
    payment_instructions: PaymentInstructions | Literal[""] = ""
    # CMR box 15: amount and currency, as printed.
    cash_on_delivery: str = ""
    # CMR box 20: the carriage charge, in `currency`, in the column of whoever pays it
    # (payment_instructions); None leaves the grid to be completed by hand.
    carriage_charges: Decimal | None = None
    # The customer's and the booking's reference numbers.
    references: tuple[str, ...] = ()
    # A draft asked for on purpose from an incomplete shipment: marked on every page.
    is_draft: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "document_type", DocumentType(self.document_type))
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "documents_attached", tuple(self.documents_attached))
        object.__setattr__(self, "successive_carriers", tuple(self.successive_carriers))
        object.__setattr__(self, "references", tuple(self.references))
        if self.payment_instructions:
            object.__setattr__(self, "payment_instructions", PaymentInstructions(self.payment_instructions))
        if self.carriage_charges is not None:
            object.__setattr__(self, "carriage_charges", Decimal(self.carriage_charges))
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, not {self.language!r}")
        if not self.items:
            raise ValueError("a shipping document lists at least one item")
        if not self.verification_url:
            raise ValueError("every document carries its verification URL")
        foreign = sorted({item.currency for item in self.items} - {self.currency})
        if foreign:
            raise ValueError(f"items priced in {foreign} on a document in {self.currency}")

    @property
    def total_amount(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal(0))

    @property
    def total_weight_kg(self) -> Decimal:
        return sum((item.weight_kg for item in self.items), Decimal(0))

    @property
    def total_packages(self) -> int:
        return sum(item.packages for item in self.items)

    @property
    def total_volume_m3(self) -> Decimal | None:
        volumes = [item.volume_m3 for item in self.items if item.volume_m3 is not None]
        return sum(volumes, Decimal(0)) if volumes else None


@dataclass(frozen=True)
class TemplateOptions:
    """How an organization's template dresses a document."""

    header_text: str = ""
    footer_text: str = ""
    logo_png: bytes | None = None
    visible_fields: frozenset[OptionalField] = frozenset(OptionalField)

    def __post_init__(self) -> None:
        object.__setattr__(self, "visible_fields", frozenset(OptionalField(f) for f in self.visible_fields))

    def shows(self, optional_field: OptionalField) -> bool:
        return optional_field in self.visible_fields


DEFAULT_TEMPLATE = TemplateOptions()
