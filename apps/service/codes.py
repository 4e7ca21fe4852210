"""Expert passport codes (seed 002): `EP-{T|B|A}-{INDUSTRY}-{SKILL}-{YYMM}-{NAT2}-{SEQ}-{CHK2}`,
e.g. `EP-T-EL-MOT-2612-DE-00042-35`.

- T|B|A: technical, business, or both (models.ExpertType);
- INDUSTRY (two letters) and SKILL (three): the main skill, from apps/service/vocabulary.py;
- YYMM: the year and month the code was issued (seed 002 has the expert's birth month here; a
  code printed on a public profile must not tell anyone's age, so the issue month it is);
- NAT2: ISO 3166-1 alpha-2 nationality;
- SEQ: five digits, the platform's sequence for that month (codes are unique across
  organizations), from 00001, no gaps (models.ExpertCodeCounter);
- CHK2: ISO 7064 MOD 97-10 check digits over the other parts without dashes, the scheme of
  device passports (apps/passports/codes.py explains why a single mistyped or swapped character
  is always caught: each part has a fixed length and alphabet, and 97 is prime).
"""

from __future__ import annotations

import re

from stdnum.iso7064 import mod_97_10

from apps.core.countries import is_country
from apps.passports.codes import SEPARATOR, CodeCheck, normalized
from apps.service import vocabulary

PREFIX = "EP"
SEQUENCE_MAX = 99_999
PARTS = (
    ("prefix", 2, r"EP", "EP (an expert passport)"),
    ("expert_type", 1, r"[TBA]", "T (technical), B (business) or A (both)"),
    ("industry", 2, r"[A-Z]{2}", "two letters A-Z (the industry)"),
    ("skill", 3, r"[A-Z]{3}", "three letters A-Z (the skill)"),
    ("year_month", 4, r"[0-9]{2}(0[1-9]|1[0-2])", "four digits YYMM, month 01-12"),
    ("nationality", 2, r"[A-Z]{2}", "two letters A-Z (ISO 3166-1 nationality)"),
    ("sequence", 5, r"[0-9]{5}", "five digits 00001-99999"),
    ("checksum", 2, r"[0-9]{2}", "two digits (ISO 7064 MOD 97-10)"),
)
EXAMPLE = "EP-T-EL-MOT-2612-DE-00042-35"


def check_digits(
    *, expert_type: str, industry: str, skill: str, year_month: str, nationality: str, sequence: int
) -> str:
    return mod_97_10.calc_check_digits(f"{PREFIX}{expert_type}{industry}{skill}{year_month}{nationality}{sequence:05d}")


def compose(*, expert_type: str, industry: str, skill: str, year_month: str, nationality: str, sequence: int) -> str:
    if not 1 <= sequence <= SEQUENCE_MAX:
        raise ValueError(f"sequence {sequence} is outside 1-{SEQUENCE_MAX}")
    checksum = check_digits(
        expert_type=expert_type,
        industry=industry,
        skill=skill,
        year_month=year_month,
        nationality=nationality,
        sequence=sequence,
    )
    return SEPARATOR.join((PREFIX, expert_type, industry, skill, year_month, nationality, f"{sequence:05d}", checksum))


def code_check(code: str) -> CodeCheck:
    """Check an expert code part by part (shape, known values, then the check digits)."""
    text = normalized(code)
    result = CodeCheck(code=text)
    pieces = text.split(SEPARATOR)
    if len(pieces) != len(PARTS):
        result.errors["code"] = [
            f"An expert passport code has {len(PARTS)} parts separated by dashes, e.g. {EXAMPLE}; "
            f"this one has {len(pieces)}."
        ]
        return result
    for (name, length, pattern, expected), piece in zip(PARTS, pieces, strict=True):
        result.parts[name] = piece
        if len(piece) != length or not re.fullmatch(pattern, piece):
            result.errors[name] = [f"{piece!r} is not {expected}."]
    parts = result.parts
    if "industry" not in result.errors and not vocabulary.is_industry(parts["industry"]):
        result.errors["industry"] = [f"{parts['industry']!r} is not a known industry."]
    if not result.errors.keys() & {"industry", "skill"} and not vocabulary.is_skill(parts["industry"], parts["skill"]):
        result.errors["skill"] = [f"{parts['skill']!r} is not a skill of industry {parts['industry']}."]
    if "nationality" not in result.errors and not is_country(parts["nationality"]):
        result.errors["nationality"] = [f"{parts['nationality']!r} is not an ISO 3166-1 country code."]
    if "sequence" not in result.errors and int(parts["sequence"]) == 0:
        result.errors["sequence"] = ["The sequence starts at 00001."]
    if not result.errors:
        expected = check_digits(
            expert_type=parts["expert_type"],
            industry=parts["industry"],
            skill=parts["skill"],
            year_month=parts["year_month"],
            nationality=parts["nationality"],
            sequence=int(parts["sequence"]),
        )
        if parts["checksum"] != expected:
            result.errors["checksum"] = [
                "The check digits do not match the rest of the code: a character is mistyped or two are swapped."
            ]
    return result
