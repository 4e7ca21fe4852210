"""Exchange-rate providers: where the display-only rates come from.

A provider answers a base currency, a time, and how many units of each quote currency
one unit of the base buys. The offline default reads a file kept in the repository
(apps/escrow/data/exchange_rates.json), so a fresh machine shows equivalents without a
network; production names another backend in settings.EXCHANGE_RATES_PROVIDER.
Rates are never used to move money: escrows are held and paid in their own currency.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class RateSheet:
    provider: str
    base: str
    as_of: datetime
    rates: dict[str, Decimal]


class ExchangeRatesProvider(ABC):
    name: str

    @abstractmethod
    def fetch(self) -> RateSheet:
        """The provider's latest rates; raises on a provider that cannot answer."""


class OfflineFileRates(ExchangeRatesProvider):
    name = "offline_file"

    def __init__(self, *, path: str):
        self.path = Path(path)

    def fetch(self) -> RateSheet:
        data = json.loads(self.path.read_text())
        return RateSheet(
            provider=self.name,
            base=data["base"],
            as_of=datetime.fromisoformat(data["as_of"].replace("Z", "+00:00")),
            rates={currency: Decimal(rate) for currency, rate in data["rates"].items()},
        )


def rates_provider() -> ExchangeRatesProvider:
    options = dict(settings.EXCHANGE_RATES_PROVIDER)
    backend = import_string(options.pop("BACKEND"))
    return backend(**{key.lower(): value for key, value in options.items()})
