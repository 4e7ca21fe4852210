"""ISO 3166-1 countries (pycountry's copy of the standard)."""

from functools import lru_cache

import pycountry


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code in upper case (DE, RU); False for XX, EU, de."""
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


@lru_cache(maxsize=1)
def country_codes() -> list[str]:
    """Every ISO 3166-1 alpha-2 code, sorted (the schema's enum of a country field)."""
    return sorted(country.alpha_2 for country in pycountry.countries)
