"""Serializer fields shared by every context's API."""

from __future__ import annotations

import re
from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.countries import country_codes, is_country
from apps.core.money import MAX_MINOR_UNITS, currency_codes, is_currency, round_money


class StrictCharField(serializers.CharField):
    """Text that arrives as a JSON string, never as a JSON number: every text field of the API.

    DRF's CharField turns a number into text ("footer_text": 0 becomes "0"), so a client's
    type error passes unseen and the API accepts what its schema (type: string) excludes.
    A form or query string is text anyway. Serializers declare this (or a Strict* variant
    below) instead of DRF's own; ModelSerializer builds them through its
    serializer_field_mapping (use_strict_text_fields); tests/core/test_strict_text_fields.py
    walks every serializer under apps/ for a plain one.
    """

    # Empty, not inherited: Field.__init__ merges default_error_messages along the MRO, so an
    # inherited CharField dict here would hide a variant's own "invalid" (EmailField's, ...).
    default_error_messages = {}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(StrictCharField, serializers.EmailField):
    """DRF's EmailField, JSON strings only."""


class StrictURLField(StrictCharField, serializers.URLField):
    """DRF's URLField, JSON strings only."""


class StrictSlugField(StrictCharField, serializers.SlugField):
    """DRF's SlugField, JSON strings only."""


class StrictRegexField(StrictCharField, serializers.RegexField):
    """DRF's RegexField, JSON strings only."""


class StrictIPAddressField(StrictCharField, serializers.IPAddressField):
    """DRF's IPAddressField, JSON strings only (it already refused numbers itself)."""


# DRF's text fields and their strict variants.
STRICT_TEXT_FIELDS = {
    serializers.CharField: StrictCharField,
    serializers.EmailField: StrictEmailField,
    serializers.URLField: StrictURLField,
    serializers.SlugField: StrictSlugField,
    serializers.RegexField: StrictRegexField,
    serializers.IPAddressField: StrictIPAddressField,
}


def use_strict_text_fields() -> None:
    """ModelSerializer builds the strict variant wherever it would build one of DRF's text fields.

    Set once on DRF's mapping (from CoreConfig.ready()), which every ModelSerializer reads when
    it builds its fields, rather than through a project base class that every ModelSerializer
    would have to name. Idempotent."""
    mapping = serializers.ModelSerializer.serializer_field_mapping
    for model_field, field in mapping.items():
        mapping[model_field] = STRICT_TEXT_FIELDS.get(field, field)


class CurrencyField(StrictCharField):
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


class CurrencyFieldExtension(OpenApiSerializerFieldExtension):
    """The schema lists the codes the field accepts, so that a client (and the schema fuzz)
    never sends a three-letter string like "000" that the field must refuse."""

    target_class = CurrencyField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": currency_codes()}


class CountryField(StrictCharField):
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


class CountryFieldExtension(OpenApiSerializerFieldExtension):
    """The schema lists the ISO 3166-1 alpha-2 codes the field accepts."""

    target_class = CountryField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": country_codes()}


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
        return None if amount is None else str(round_money(amount, currency))


class MoneyAmountField(serializers.Field):
    """An amount of money given by a client: exactly what its schema pattern says, a JSON
    string of ASCII digits with an optional decimal point ("1250", "12.50"), never a JSON
    number, an exponent, spaces or other scripts' digits. At most MAX_MINOR_UNITS decimal
    places here; the currency's own minor units (JPY 0, EUR 2, KWD 3) are checked by the
    service that knows the currency, from the payload or from a record (the RFQ an offer
    answers, the escrow a release draws on), through apps.core.money.require_minor_units,
    so the API, the back-office and jobs all refuse the same amounts.

    `currency_of` says, for the schema, whose currency the amount is in ("`currency`",
    "the offering's currency"); None for a rate (a price per kg) that is not itself an
    amount to pay and may have more decimal places.
    """

    default_error_messages = {
        "invalid": 'An amount as a string of digits with an optional decimal point, e.g. "1250.00" '
        "(no exponent, spaces or JSON number); at most {whole_digits} digits before the point and "
        "{decimal_places} after it.",
        "min_value": "Must be at least {min_value}.",
        "max_value": "Must be at most {max_value}.",
    }

    def __init__(
        self,
        *,
        currency_of: str | None = "`currency`",
        min_value: Decimal | None = Decimal(0),
        max_value: Decimal | None = None,
        whole_digits: int = 12,
        decimal_places: int = MAX_MINOR_UNITS,
        **kwargs,
    ):
        self.currency_of = currency_of
        self.min_value, self.max_value = min_value, max_value
        self.whole_digits, self.decimal_places = whole_digits, decimal_places
        sign = "-?" if min_value is None or min_value < 0 else ""
        fraction = rf"(\.[0-9]{{1,{decimal_places}}})?" if decimal_places else ""
        self.pattern = rf"^{sign}[0-9]{{1,{whole_digits}}}{fraction}$"
        self._regex = re.compile(self.pattern)
        bounds = [f"at least {min_value}" if min_value is not None else "", f"at most {max_value}" if max_value else ""]
        limits = " and ".join(bound for bound in bounds if bound)
        units = f" No more decimal places than {currency_of} has (ISO 4217: EUR 2, JPY 0, KWD 3)."
        units = units if currency_of else ""
        described = f"A decimal string{', ' + limits if limits else ''}.{units}"
        kwargs["help_text"] = f"{kwargs['help_text']} {described}" if kwargs.get("help_text") else described
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        # fullmatch: `$` alone would let a trailing newline through.
        if not isinstance(data, str) or not self._regex.fullmatch(data):
            self.fail("invalid", whole_digits=self.whole_digits, decimal_places=self.decimal_places)
        amount = Decimal(data)
        if self.min_value is not None and amount < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        if self.max_value is not None and amount > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        return amount

    def to_representation(self, value):
        return str(value)


class MoneyAmountFieldExtension(OpenApiSerializerFieldExtension):
    """The schema of a MoneyAmountField is the very pattern it validates with."""

    target_class = MoneyAmountField

    def map_serializer_field(self, auto_schema, direction):
        # The description is the field's help_text (bounds and currency, set in __init__).
        return {"type": "string", "pattern": self.target.pattern, "example": "1250.00"}
