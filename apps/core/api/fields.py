"""Serializer fields shared by every context's API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.countries import is_country
from apps.core.money import is_currency, round_money


class CurrencyField(serializers.CharField):
    """An ISO 4217 code in use today (EUR, RUB, ...); lower case is accepted and upper-cased."""

    default_error_messages = {"currency": "{value!r} is not an ISO 4217 currency in use (e.g. EUR, USD, RUB)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "ISO 4217 currency code, e.g. EUR.")
        super().__init__(min_length=3, max_length=3, **kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if not is_currency(code):
            self.fail("currency", value=code)
        return code


class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 country code (DE, RU, ...); lower case is accepted and upper-cased."""

    default_error_messages = {"country": "{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. DE, RU)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "ISO 3166-1 alpha-2 country code, e.g. DE.")
        super().__init__(min_length=2, max_length=2, **kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if not is_country(code):
            self.fail("country", value=code)
        return code


@extend_schema_field({"type": "string", "format": "decimal", "example": "1250.00"})
class MoneyField(serializers.Field):
    """An amount as a decimal string in its currency's minor units ("12.50" EUR, "1250" JPY),
    the currency read from `currency_field` of the same object. Output only."""

    def __init__(self, *, currency_field: str = "currency", **kwargs):
        self.currency_field = currency_field
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return super().get_attribute(instance), getattr(instance, self.currency_field)

    def to_representation(self, value):
        amount, currency = value
        return str(round_money(amount, currency))
