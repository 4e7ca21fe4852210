"""Display-only exchange rates: refreshed from the provider named in settings (the offline file
by default), stored both ways round, idempotently."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from apps.escrow import services
from apps.escrow.models import ExchangeRate
from apps.escrow.rates import ExchangeRatesProvider, RateSheet

pytestmark = pytest.mark.django_db

OFFLINE_QUOTES = 17  # currencies of apps/escrow/data/exchange_rates.json besides its base, EUR


def rate(base: str, quote: str) -> ExchangeRate:
    return ExchangeRate.objects.get(base=base, quote=quote)


def rates_file(tmp_path, rates: dict, *, base: str = "EUR", as_of: str = "2026-12-01T08:00:00Z") -> dict:
    """EXCHANGE_RATES_PROVIDER reading a file of `rates` written in tmp_path."""
    path = tmp_path / f"rates-{uuid4().hex}.json"
    path.write_text(json.dumps({"base": base, "as_of": as_of, "rates": rates}))
    return {"BACKEND": "apps.escrow.rates.OfflineFileRates", "PATH": str(path)}


def test_the_offline_file_is_stored_both_ways_round():
    written = services.exchange_rates_refresh()

    assert written == ExchangeRate.objects.count() == 2 * OFFLINE_QUOTES
    euro_dollar, dollar_euro = rate("EUR", "USD"), rate("USD", "EUR")
    assert euro_dollar.rate == Decimal("1.0542")
    assert dollar_euro.rate == (1 / Decimal("1.0542")).quantize(Decimal("1e-10"))
    assert (euro_dollar.provider, euro_dollar.as_of) == ("offline_file", datetime(2026, 11, 30, 16, tzinfo=UTC))
    assert rate("EUR", "JPY").rate == Decimal("158.42")


def test_a_second_refresh_writes_the_same_rows_again():
    services.exchange_rates_refresh()
    first = {(r.base, r.quote): (r.rate, r.as_of) for r in ExchangeRate.objects.all()}

    written = services.exchange_rates_refresh()

    assert written == 2 * OFFLINE_QUOTES
    assert {(r.base, r.quote): (r.rate, r.as_of) for r in ExchangeRate.objects.all()} == first


def test_a_provider_named_in_settings_replaces_the_rates_it_knows(settings, tmp_path):
    services.exchange_rates_refresh()
    settings.EXCHANGE_RATES_PROVIDER = rates_file(tmp_path, {"USD": "1.1000", "PLN": "4.0000"})

    written = services.exchange_rates_refresh()

    assert written == 4
    assert (rate("EUR", "USD").rate, rate("USD", "EUR").rate) == (Decimal("1.1"), Decimal("0.9090909091"))
    assert rate("EUR", "PLN").as_of == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert rate("EUR", "GBP").rate == Decimal("0.8321")  # not in the new sheet: kept as it was
    assert ExchangeRate.objects.count() == 2 * OFFLINE_QUOTES


def test_a_sheet_with_another_base_is_stored_against_that_base(settings, tmp_path):
    settings.EXCHANGE_RATES_PROVIDER = rates_file(tmp_path, {"EUR": "0.9500", "JPY": "150.00"}, base="USD")

    assert services.exchange_rates_refresh() == 4

    assert sorted(ExchangeRate.objects.values_list("base", "quote")) == [
        ("EUR", "USD"),
        ("JPY", "USD"),
        ("USD", "EUR"),
        ("USD", "JPY"),
    ]
    assert rate("JPY", "USD").rate == Decimal("0.0066666667")


def test_unknown_currencies_the_base_itself_and_rates_not_above_zero_are_skipped(settings, tmp_path):
    sheet = {"USD": "1.05", "XYZ": "2.00", "DEM": "1.95583", "EUR": "1", "GBP": "0", "CHF": "-0.93"}
    settings.EXCHANGE_RATES_PROVIDER = rates_file(tmp_path, sheet)

    assert services.exchange_rates_refresh() == 2

    assert sorted(ExchangeRate.objects.values_list("base", "quote")) == [("EUR", "USD"), ("USD", "EUR")]


class FixedRates(ExchangeRatesProvider):
    """A provider of our own, configured through settings as a real one would be."""

    name = "fixed"

    def __init__(self, *, base: str, quote: str, rate: str):
        self.base, self.quote, self.rate = base, quote, Decimal(rate)

    def fetch(self) -> RateSheet:
        return RateSheet(
            provider=self.name, base=self.base, as_of=datetime(2026, 12, 1, tzinfo=UTC), rates={self.quote: self.rate}
        )


def test_any_backend_with_its_options_may_be_named_in_settings(settings):
    settings.EXCHANGE_RATES_PROVIDER = {
        "BACKEND": f"{__name__}.FixedRates",
        "BASE": "GBP",
        "QUOTE": "CHF",
        "RATE": "1.1250",
    }

    assert services.exchange_rates_refresh() == 2

    assert (rate("GBP", "CHF").rate, rate("GBP", "CHF").provider) == (Decimal("1.125"), "fixed")
    assert rate("CHF", "GBP").rate == Decimal("0.8888888889")
