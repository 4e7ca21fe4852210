"""The platform's commission on an escrow: a rate from the supplier's plan, with a minimum fee.

The commission is taken at release, on what is released: the cumulative commission
due on a released total T is

    due(T) = min(T, max(round(T x rate), minimum), commission on the whole amount)

and each release takes due(after) - due(before). Releasing everything therefore takes
exactly the commission shown before funding; releasing in parts never takes more; what
is refunded bears no commission. Rounding: the currency's minor units, half to even.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from apps.core.money import round_money


@dataclass(frozen=True)
class CommissionTerms:
    rate: Decimal
    minimum: Decimal


def commission_terms(*, plan: str, currency: str) -> CommissionTerms:
    """The rate of the plan and the minimum fee in the escrow's currency (0 where none is set)."""
    rates = settings.ESCROW["COMMISSION_RATES"]
    rate = Decimal(rates.get(plan, rates["default"]))
    minimum = Decimal(settings.ESCROW["MINIMUM_FEES"].get(currency, "0"))
    return CommissionTerms(rate=rate, minimum=round_money(minimum, currency))


def commission_on(amount: Decimal, *, terms: CommissionTerms, currency: str) -> Decimal:
    """The commission on `amount` released in one go: never more than the amount itself."""
    return min(amount, max(round_money(amount * terms.rate, currency), terms.minimum))


def commission_due(released_total: Decimal, *, escrow) -> Decimal:
    """The cumulative commission owed once `released_total` of the escrow has been released."""
    if released_total >= escrow.amount:
        return escrow.commission_amount
    terms = CommissionTerms(rate=escrow.commission_rate, minimum=escrow.commission_minimum)
    return min(commission_on(released_total, terms=terms, currency=escrow.currency), escrow.commission_amount)
