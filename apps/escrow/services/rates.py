"""Refreshing the display-only exchange-rate table from its provider."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.core.money import is_currency
from apps.escrow.models import ExchangeRate
from apps.escrow.rates import rates_provider


@transaction.atomic
def exchange_rates_refresh() -> int:
    """Store the provider's latest rates, both ways round (base->quote and quote->base).
    Returns how many pairs were written. Unknown currencies in the sheet are skipped."""
    sheet = rates_provider().fetch()
    pairs = []
    for quote, rate in sheet.rates.items():
        if quote == sheet.base or not is_currency(quote) or rate <= 0:
            continue
        pairs.append((sheet.base, quote, rate))
        pairs.append((quote, sheet.base, (Decimal(1) / rate).quantize(Decimal("1e-10"))))
    ExchangeRate.objects.bulk_create(
        [
            ExchangeRate(base=base, quote=quote, rate=rate, as_of=sheet.as_of, provider=sheet.provider)
            for base, quote, rate in pairs
        ],
        update_conflicts=True,
        unique_fields=["base", "quote"],
        update_fields=["rate", "as_of", "provider", "fetched_at"],
    )
    return len(pairs)
