"""How numbers, ranges and temperatures read in the sentence of a reason."""

from __future__ import annotations

from decimal import Decimal


def _number(value) -> str:
    """A Decimal for a sentence: no trailing zeros, no exponent (1200.000 -> 1200)."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return str(value)


def _range(low, high, unit: str) -> str:
    if low is not None and high is not None:
        return f"from {_number(low)} {unit} to {_number(high)} {unit}"
    if low is not None:
        return f"from {_number(low)} {unit}"
    return f"up to {_number(high)} {unit}"


def _temperature_range(low, high) -> str:
    if low is not None and high is not None:
        return f"between {_number(low)} °C and {_number(high)} °C"
    if low is not None:
        return f"at {_number(low)} °C or warmer"
    if high is not None:
        return f"at {_number(high)} °C or colder"
    return "at any temperature"
