"""What pricing takes and gives: a shipment and its places in; a quote, itemized, or an
exclusion with every reason out. Plain frozen dataclasses, amounts as Decimal."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Place:
    country: str
    city: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Shipment:
    origin: Place
    destination: Place
    weight_kg: Decimal
    volume_cbm: Decimal | None = None
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None
    pallet_count: int | None = None
    cargo_type: str = "general"
    hazmat_class: str = ""
    temperature_min_c: Decimal | None = None
    temperature_max_c: Decimal | None = None
    pickup_date: date | None = None
    service_type: str = ""  # optional filter
    currency: str = ""  # optional filter: only offerings priced in this currency


_SHIPMENT_FIELDS = tuple(field.name for field in fields(Shipment))


@dataclass(frozen=True, slots=True)
class Distance:
    km: Decimal | None
    method: str  # "great_circle" or "unknown"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceLine:
    name: str
    source: str  # "offering" for the base price, else "tariff"
    tariff_id: UUID | None
    tariff_type: str  # "" for the offering line
    unit: str
    quantity: Decimal
    rate: Decimal | None  # price per unit, or the offering's base_price
    multiplier: Decimal | None  # the multiplier applied; None when there is none (it is 1)
    base: Decimal | None  # the subtotal a surcharge line is a share of; None for per-unit lines
    calculated: Decimal  # before clamping, unrounded
    clamped_to: str | None  # "minimum", "maximum" or None
    amount: Decimal  # after clamping, rounded to the currency
    quantity_estimated: bool = False  # a pallet count the shipment did not give (pricing/pallets.py)
    note: str = ""  # how an estimated quantity was made

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "tariff_id": None if self.tariff_id is None else str(self.tariff_id),
            "tariff_type": self.tariff_type,
            "unit": self.unit,
            "quantity": _decimal_text(self.quantity),
            "rate": _decimal_text(self.rate),
            "multiplier": _decimal_text(self.multiplier),
            "base": _decimal_text(self.base),
            "calculated": _decimal_text(self.calculated),
            "clamped_to": self.clamped_to,
            "amount": _decimal_text(self.amount),
            "quantity_estimated": self.quantity_estimated,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    offering_id: UUID
    currency: str
    lines: tuple[PriceLine, ...]
    total: Decimal
    transit_days: int
    skipped_tariffs: tuple[tuple[UUID, Reason], ...]  # tariffs that did not apply, and why

    def to_dict(self) -> dict[str, Any]:
        """The quote as JSON-ready data (amounts as strings): the API's and an offer's stored breakdown."""
        return {
            "offering_id": str(self.offering_id),
            "currency": self.currency,
            "lines": [line.to_dict() for line in self.lines],
            "total": _decimal_text(self.total),
            "transit_days": self.transit_days,
            "skipped_tariffs": [
                {"tariff_id": str(tariff_id), "code": reason.code, "message": reason.message}
                for tariff_id, reason in self.skipped_tariffs
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Exclusion:
    offering_id: UUID
    reasons: tuple[Reason, ...]  # all of them, not only the first

    def to_dict(self) -> dict[str, Any]:
        return {
            "offering_id": str(self.offering_id),
            "reasons": [{"code": reason.code, "message": reason.message} for reason in self.reasons],
        }


def shipment_as_dict(shipment: Shipment) -> dict[str, Any]:
    """The shipment as JSON-ready data (numbers as exact strings); `shipment_from_dict` reads it back."""
    data: dict[str, Any] = {}
    for name in _SHIPMENT_FIELDS:
        value = getattr(shipment, name)
        if isinstance(value, Place):
            value = {
                "country": value.country,
                "city": value.city,
                "latitude": _decimal_text(value.latitude),
                "longitude": _decimal_text(value.longitude),
            }
        elif isinstance(value, Decimal):
            value = _decimal_text(value)
        elif isinstance(value, date):
            value = value.isoformat()
        data[name] = value
    return data


def shipment_from_dict(data: dict[str, Any]) -> Shipment:
    """The shipment `shipment_as_dict` wrote, equal to the one it was given."""

    def place(fields: dict) -> Place:
        return Place(
            country=fields["country"],
            city=fields["city"],
            latitude=_decimal_or_none(fields["latitude"]),
            longitude=_decimal_or_none(fields["longitude"]),
        )

    values = dict(data)
    values["origin"], values["destination"] = place(data["origin"]), place(data["destination"])
    for name in ("weight_kg", "volume_cbm", "temperature_min_c", "temperature_max_c"):
        values[name] = _decimal_or_none(data[name])
    values["pickup_date"] = None if data["pickup_date"] is None else date.fromisoformat(data["pickup_date"])
    return Shipment(**values)


def _decimal_or_none(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def quote_as_dict(quote: Quote) -> dict[str, Any]:
    """The quote as JSON-ready data (amounts as strings); the same as `quote.to_dict()`."""
    return quote.to_dict()


def _decimal_text(value: Decimal | None) -> str | None:
    """Decimal -> str without exponent (0E-10 would be legal JSON-string but unreadable)."""
    return None if value is None else format(value, "f")
