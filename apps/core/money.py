"""Money: ISO 4217 currencies (in use today: CLDR data through Babel), their minor units
(the ISO 4217 exponent, from the iso4217 package), the one rounding rule of the platform,
and the one check of an amount that a client gives.

Amounts are `Decimal` with a currency, never float. An amount is rounded to its
currency's minor units (2 for EUR, 0 for JPY, 3 for KWD) with ROUND_HALF_EVEN
(banker's rounding: halves go to the even digit, so rounding many amounts does not
drift upwards).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies
from iso4217 import Currency

from apps.core.errors import ValidationFailed

ROUNDING = ROUND_HALF_EVEN


@lru_cache(maxsize=1)
def currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (withdrawn ones like DEM are not)."""
    today = date.today()
    territories = get_global("territory_currencies").keys()
    return frozenset(
        code for territory in territories for code in get_territory_currencies(territory, start_date=today)
    )


def currency_codes() -> list[str]:
    """The codes in use, sorted (the schema's enum of a currency field)."""
    return sorted(currencies_in_use())


def is_currency(code: str) -> bool:
    return code in currencies_in_use()


@lru_cache(maxsize=1)
def _iso_exponents() -> dict[str, int]:
    return {currency.code: currency.exponent for currency in Currency if currency.exponent is not None}


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """How many decimal places the currency has (EUR 2, JPY 0, KWD 3): the ISO 4217 exponent.

    Not CLDR's digits, which are what is usual to show (0 for HUF, IDR, IQD...): a bank
    transfer of 10.50 HUF is legal, and a payment provider speaks ISO 4217."""
    exponent = _iso_exponents().get(currency)
    return exponent if exponent is not None else get_currency_precision(currency)


# The most decimal places of any currency in use (KWD, BHD, OMR...): what money columns hold.
MAX_MINOR_UNITS = 3

# What a client may write as an amount: ASCII digits, one optional point with digits after
# it, an optional minus; no exponent, no spaces, no other digits (a JSON number is refused
# too: a float may already have lost the cents).
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def fits_minor_units(amount: Decimal, currency: str) -> bool:
    """True when `amount` has no more decimal places than the currency (trailing zeros do
    not count: 100.00 JPY is 100 JPY)."""
    try:
        return amount.scaleb(minor_units(currency)) % 1 == 0
    except InvalidOperation:  # more digits than the decimal context holds: not an amount
        return False


def minor_units_error(amount: Decimal, currency: str) -> str | None:
    """What is wrong with `amount` in `currency`, or None: the one check of an amount against
    its currency, for serializers (apps.core.api.fields) and services alike."""
    if fits_minor_units(amount, currency):
        return None
    places = minor_units(currency)
    return f"{currency} amounts have at most {places} decimal place{'' if places == 1 else 's'}."


def require_minor_units(amount: Decimal, currency: str, *, field: str) -> None:
    """For a service that knows the currency from a record (the RFQ an offer answers, the
    escrow a release draws on): ValidationFailed (400 VALIDATION_FIELD_INVALID) naming `field`."""
    message = minor_units_error(amount, currency)
    if message:
        raise ValidationFailed(message, details={field: [message]})


@lru_cache(maxsize=512)
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded to the currency's minor units, half to even."""
    return amount.quantize(_quantum(currency), rounding=ROUNDING)
