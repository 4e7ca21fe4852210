"""Money: ISO 4217 currencies and their minor units (CLDR data through Babel), and the
one rounding rule of the platform.

Amounts are `Decimal` with a currency, never float. An amount is rounded to its
currency's minor units (2 for EUR, 0 for JPY, 3 for KWD) with ROUND_HALF_EVEN
(banker's rounding: halves go to the even digit, so rounding many amounts does not
drift upwards).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies

ROUNDING = ROUND_HALF_EVEN


@lru_cache(maxsize=1)
def currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (withdrawn ones like DEM are not)."""
    today = date.today()
    territories = get_global("territory_currencies").keys()
    return frozenset(
        code for territory in territories for code in get_territory_currencies(territory, start_date=today)
    )


def is_currency(code: str) -> bool:
    return code in currencies_in_use()


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """How many decimal places the currency has (EUR 2, JPY 0, KWD 3)."""
    return get_currency_precision(currency)


@lru_cache(maxsize=512)
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded to the currency's minor units, half to even."""
    return amount.quantize(_quantum(currency), rounding=ROUNDING)
