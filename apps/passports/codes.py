"""Passport codes (seed 002): `{ORG3}-{YYMM}-{TYPE2}-{ORIGIN2}-{SEQ6}-{CHK2}`, e.g.
`ACM-2612-MO-DE-000042-15`.

- ORG3: the issuing organization's three letters (tenancy `Organization.code`);
- YYMM: the year and month of issue;
- TYPE2: the product type's two letters (models.ProductType);
- ORIGIN2: the ISO 3166-1 alpha-2 country of manufacture;
- SEQ6: the issuer's sequence for that month, from 000001, no gaps (apps.core.services.sequence_next);
- CHK2: ISO 7064 MOD 97-10 check digits (python-stdnum) over the other parts without dashes.

Why every single mistyped or transposed character is caught: each part has a fixed length and a
fixed alphabet (letters or digits), so a typo that changes the alphabet of a character, or that
moves a dash, breaks the format; within the format, MOD 97-10 reads a letter as two digits
(A = 10 ... Z = 35) and a digit as one, so a substitution changes the number by d·10^k with
0 < |d| < 97, and swapping neighbours by d·9·10^k or d·99·100^k: 97 is prime and divides none of
these, so the remainder always changes. tests/passports/test_codes.py checks it exhaustively
over generated codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stdnum.iso7064 import mod_97_10

from apps.core.countries import is_country

SEPARATOR = "-"
SEQUENCE_MAX = 999_999

# (part, length, pattern, what it should be)
PARTS = (
    ("company", 3, r"[A-Z]{3}", "three letters A-Z (the issuing organization's code)"),
    ("year_month", 4, r"[0-9]{2}(0[1-9]|1[0-2])", "four digits YYMM, month 01-12"),
    ("product_type", 2, r"[A-Z]{2}", "two letters A-Z (the product type)"),
    ("origin", 2, r"[A-Z]{2}", "two letters A-Z (the ISO 3166-1 country of origin)"),
    ("sequence", 6, r"[0-9]{6}", "six digits 000001-999999"),
    ("checksum", 2, r"[0-9]{2}", "two digits (ISO 7064 MOD 97-10)"),
)
CODE_LENGTH = sum(length for _, length, _, _ in PARTS) + len(PARTS) - 1
CODE_SHAPE = re.compile(
    "^" + re.escape(SEPARATOR).join(f"(?P<{name}>{pattern})" for name, _, pattern, _ in PARTS) + "$"
)


def check_digits(*, company: str, year_month: str, product_type: str, origin: str, sequence: int) -> str:
    """The two MOD 97-10 check digits of the code's other parts."""
    return mod_97_10.calc_check_digits(f"{company}{year_month}{product_type}{origin}{sequence:06d}")


def compose(*, company: str, year_month: str, product_type: str, origin: str, sequence: int) -> str:
    """The full code of these parts, check digits included."""
    if not 1 <= sequence <= SEQUENCE_MAX:
        raise ValueError(f"sequence {sequence} is outside 1-{SEQUENCE_MAX}")
    checksum = check_digits(
        company=company, year_month=year_month, product_type=product_type, origin=origin, sequence=sequence
    )
    return SEPARATOR.join((company, year_month, product_type, origin, f"{sequence:06d}", checksum))


@dataclass
class CodeCheck:
    """What a code says and which of its parts are wrong (`errors`: part -> messages)."""

    code: str
    parts: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def normalized(code: str) -> str:
    """As people type codes: spaces dropped, upper case."""
    return re.sub(r"\s+", "", code or "").upper()


def code_check(code: str, *, product_types=None) -> CodeCheck:
    """Check a code part by part: shape first (each part's length and alphabet), then the known
    values (a product type of the list, a country, a sequence above zero), then the check digits.
    A part that cannot be read is named; the check digits are judged only when the rest reads."""
    from apps.passports.models import ProductType

    product_types = ProductType.values if product_types is None else product_types
    text = normalized(code)
    result = CodeCheck(code=text)
    if len(text) > CODE_LENGTH + 8:
        result.errors["code"] = [f"A passport code has {CODE_LENGTH} characters, e.g. ACM-2612-MO-DE-000042-15."]
        return result
    pieces = text.split(SEPARATOR)
    if len(pieces) != len(PARTS):
        result.errors["code"] = [
            f"A passport code has {len(PARTS)} parts separated by dashes "
            f"(ORG-YYMM-TYPE-ORIGIN-SEQUENCE-CHECK), e.g. ACM-2612-MO-DE-000042-15; this one has {len(pieces)}."
        ]
        return result
    for (name, length, pattern, expected), piece in zip(PARTS, pieces, strict=True):
        result.parts[name] = piece
        if len(piece) != length or not re.fullmatch(pattern, piece):
            result.errors[name] = [f"{piece!r} is not {expected}."]
    if "product_type" not in result.errors and result.parts["product_type"] not in product_types:
        result.errors["product_type"] = [f"{result.parts['product_type']!r} is not a known product type."]
    if "origin" not in result.errors and not is_country(result.parts["origin"]):
        result.errors["origin"] = [f"{result.parts['origin']!r} is not an ISO 3166-1 country code."]
    if "sequence" not in result.errors and int(result.parts["sequence"]) == 0:
        result.errors["sequence"] = ["The sequence starts at 000001."]
    if not result.errors:
        expected = check_digits(
            company=result.parts["company"],
            year_month=result.parts["year_month"],
            product_type=result.parts["product_type"],
            origin=result.parts["origin"],
            sequence=int(result.parts["sequence"]),
        )
        if result.parts["checksum"] != expected:
            result.errors["checksum"] = [
                "The check digits do not match the rest of the code: a character is mistyped or two are swapped."
            ]
    return result


def looks_like_code(text: str) -> bool:
    """Shape only (no check digits): worth a lookup."""
    return bool(CODE_SHAPE.match(normalized(text)))
