"""Numbers, dates and parties written as the document's language writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from apps.documents.content import Language, Party


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


def format_datetime(value: datetime | None, language: Language) -> str:
    """A moment in UTC, said so: the document does not know the place's time zone."""
    if value is None:
        return ""
    moment = value.astimezone(UTC)
    return f"{format_date(moment.date(), language)} {moment:%H:%M} UTC"


def party_lines(party: Party | None, labels: dict[str, str], *, show_tax_id: bool) -> list[str]:
    """Name first, then address, country and (when the template shows it) the tax id."""
    if party is None:
        return []
    lines = [party.name, *party.address_lines]
    if party.country:
        lines.append(party.country)
    if show_tax_id and party.tax_id:
        lines.append(f"{labels['tax_id']}: {party.tax_id}")
    if party.contact:
        lines.append(party.contact)
    return lines


def description_with_dangerous_goods(item) -> str:
    """The nature of the goods, and their dangerous-goods identification when they have one."""
    return f"{item.description} ({item.dangerous_goods})" if item.dangerous_goods else item.description
