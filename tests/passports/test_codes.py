"""Passport codes catch every single mistyped or swapped character (issue 21 "Tests").

The property is checked exhaustively, not sampled: over a few hundred codes generated from the
real alphabets (with a fixed seed, so a failure reproduces), every single-character substitution
by a character of A-Z, 0-9 or '-', and every swap of two different neighbours, must be refused
by `codes.code_check`, which must also name the part it blames. The known examples of
python-stdnum pin the check-digit algorithm itself.
"""

from __future__ import annotations

import random
import re
import string

import pycountry
import pytest
from stdnum.iso7064 import mod_97_10

from apps.passports import codes
from apps.passports.models import ProductType

SEED = 21
CODE_COUNT = 300
ALPHABET = string.ascii_uppercase + string.digits + codes.SEPARATOR
PART_NAMES = {name for name, _, _, _ in codes.PARTS} | {"code"}
PRODUCT_TYPES = sorted(ProductType.values)
COUNTRIES = sorted(country.alpha_2 for country in pycountry.countries)


def generated_codes(count: int = CODE_COUNT, seed: int = SEED) -> list[str]:
    """Codes as the service issues them, each part drawn from its real range."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        made.append(
            codes.compose(
                company="".join(rng.choices(string.ascii_uppercase, k=3)),
                year_month=f"{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}",
                product_type=rng.choice(PRODUCT_TYPES),
                origin=rng.choice(COUNTRIES),
                sequence=rng.randint(1, codes.SEQUENCE_MAX),
            )
        )
    return made


CODES = generated_codes()
# Edges the random draw may miss: the smallest and largest sequence, month 01 and 12, year 00 and 99.
EDGE_CODES = [
    codes.compose(company="AAA", year_month="0001", product_type="MO", origin="AD", sequence=1),
    codes.compose(company="ZZZ", year_month="9912", product_type="VA", origin="ZW", sequence=codes.SEQUENCE_MAX),
]


def substitutions(code: str):
    """Every code that differs from `code` in exactly one character of ALPHABET."""
    for position, original in enumerate(code):
        for character in ALPHABET:
            if character != original:
                yield f"{code[:position]}{character}{code[position + 1 :]}"


def transpositions(code: str):
    """Every code made by swapping two different neighbouring characters of `code`."""
    for position in range(len(code) - 1):
        left, right = code[position], code[position + 1]
        if left != right:
            yield f"{code[:position]}{right}{left}{code[position + 2 :]}"


def undetected(mutants) -> list[str]:
    """The mutants code_check accepts, or refuses without naming one of the code's parts."""
    missed = []
    for mutant in mutants:
        check = codes.code_check(mutant)
        if check.valid or not check.errors or not set(check.errors) <= PART_NAMES:
            missed.append(f"{mutant}: valid={check.valid} errors={check.errors}")
    return missed


# --- The generated codes themselves --------------------------------------------------------


def test_generated_codes_are_valid_and_read_back_part_by_part():
    # Given codes composed from random parts
    # When each is checked
    checks = [codes.code_check(code) for code in CODES + EDGE_CODES]

    # Then every one is valid, 24 characters long, and its parts read back as composed
    assert [check.code for check in checks if not check.valid] == []
    assert {len(code) for code in CODES + EDGE_CODES} == {codes.CODE_LENGTH} == {24}
    for code, check in zip(CODES + EDGE_CODES, checks, strict=True):
        assert codes.SEPARATOR.join(check.parts.values()) == code
        assert check.parts["checksum"] == codes.check_digits(
            company=check.parts["company"],
            year_month=check.parts["year_month"],
            product_type=check.parts["product_type"],
            origin=check.parts["origin"],
            sequence=int(check.parts["sequence"]),
        )


def test_generated_codes_cover_every_product_type_and_many_countries_and_months():
    # The draw is broad enough for the exhaustive tests below to mean something.
    checks = [codes.code_check(code) for code in CODES]

    assert {check.parts["product_type"] for check in checks} == set(PRODUCT_TYPES)
    assert {check.parts["year_month"][2:] for check in checks} == {f"{month:02d}" for month in range(1, 13)}
    assert len({check.parts["origin"] for check in checks}) > 100
    assert len(set(CODES)) == CODE_COUNT


def test_codes_as_people_type_them_are_read_in_upper_case_without_spaces():
    code = CODES[0]
    typed = " ".join(code.lower()[index : index + 4] for index in range(0, len(code), 4))

    check = codes.code_check(typed)

    assert (check.valid, check.code) == (True, code)


# --- Every single mistake is caught ----------------------------------------------------------


@pytest.mark.parametrize("batch", range(4), ids=lambda batch: f"codes-{batch}")
def test_every_single_character_substitution_is_rejected_and_blamed_on_a_part(batch):
    # Given a quarter of the generated codes (and the edges), and every code one character away
    sample = CODES[batch::4] + EDGE_CODES
    mutants = [mutant for code in sample for mutant in substitutions(code)]
    assert len(mutants) == len(sample) * codes.CODE_LENGTH * (len(ALPHABET) - 1)

    # When each is checked / Then none is valid, and each refusal names a part of the code
    assert undetected(mutants) == []


def test_every_adjacent_transposition_is_rejected_and_blamed_on_a_part():
    # Given every code made by swapping two different neighbours of a generated code
    mutants = [mutant for code in CODES + EDGE_CODES for mutant in transpositions(code)]
    assert len(mutants) > len(CODES) * 15  # most neighbours differ

    # When each is checked / Then none is valid, and each refusal names a part of the code
    assert undetected(mutants) == []


def test_swapping_the_two_check_digits_is_caught_whenever_they_differ():
    swapped = [code[:-2] + code[-1] + code[-2] for code in CODES if code[-1] != code[-2]]

    checks = [codes.code_check(code) for code in swapped]

    assert swapped and all(set(check.errors) == {"checksum"} for check in checks)


def test_a_transposition_inside_the_digits_of_a_part_is_blamed_on_the_check_digits():
    # Given a code whose sequence holds two different neighbouring digits, swapped
    code = codes.compose(company="ACM", year_month="2612", product_type="MO", origin="DE", sequence=123456)
    swapped = code.replace("123456", "124356")

    # When it is checked
    check = codes.code_check(swapped)

    # Then the parts all read, and the check digits give the mistake away
    assert check.errors.keys() == {"checksum"}
    assert check.parts["sequence"] == "124356"


# --- Which part is wrong, for the usual mistakes ---------------------------------------------

VALID = codes.compose(company="ACM", year_month="2612", product_type="MO", origin="DE", sequence=42)


def _with_part(name: str, value: str) -> str:
    parts = codes.code_check(VALID).parts
    parts[name] = value
    return codes.SEPARATOR.join(parts.values())


@pytest.mark.parametrize(
    ("code", "blamed"),
    [
        (_with_part("year_month", "2613"), "year_month"),  # no 13th month
        (_with_part("year_month", "2600"), "year_month"),  # nor a month 00
        (_with_part("year_month", "26X2"), "year_month"),  # a letter among the digits
        (_with_part("product_type", "ZZ"), "product_type"),  # two letters, but not a product type
        (_with_part("product_type", "M0"), "product_type"),  # a zero for an O
        (_with_part("origin", "XX"), "origin"),  # two letters, but no country
        (_with_part("origin", "EU"), "origin"),  # a union is not an ISO 3166-1 country
        (_with_part("sequence", "000000"), "sequence"),  # sequences start at 000001
        (_with_part("sequence", "00042"), "sequence"),  # a digit short
        (_with_part("company", "AC1"), "company"),  # a digit in the company's letters
        (_with_part("checksum", "00"), "checksum"),  # wrong check digits
        (_with_part("checksum", "4"), "checksum"),  # a check digit missing
        (VALID.replace("-000042-", "-000043-"), "checksum"),  # the wrong device's number, same check
        ("ACM-2612-MO-DE-000042", "code"),  # the check part left off: five parts
        ("ACM2612-MO-DE-000042-" + VALID[-2:], "code"),  # a dash left out
        (VALID + "-1", "code"),  # a part too many
        ("ACM--2612-MO-DE-000042-" + VALID[-2:], "code"),  # a doubled dash
        ("", "code"),
        ("A" * 40, "code"),  # far too long to be a code
    ],
)
def test_code_check_names_the_wrong_part_of_a_typical_mistake(code, blamed):
    # Given a code with one typical mistake
    # When it is checked
    check = codes.code_check(code)

    # Then it is invalid and the mistaken part alone is named, with a message
    assert not check.valid
    assert list(check.errors) == [blamed]
    assert all(isinstance(message, str) and message for message in check.errors[blamed])


def test_the_untouched_code_is_valid_and_names_no_part():
    check = codes.code_check(VALID)

    assert (check.valid, check.errors) == (True, {})
    assert check.parts == {
        "company": "ACM",
        "year_month": "2612",
        "product_type": "MO",
        "origin": "DE",
        "sequence": "000042",
        "checksum": VALID[-2:],
    }


def test_the_example_code_the_messages_show_is_itself_valid():
    # People copy the example a wrong-shape message gives: it must pass the check it explains.
    messages = codes.code_check("ACM-2612").errors["code"] + codes.code_check("A" * 40).errors["code"]
    examples = {
        example
        for message in messages
        for example in re.findall(r"[A-Z]{3}-\d{4}-[A-Z]{2}-[A-Z]{2}-\d{6}-\d{2}", message)
    }

    assert examples, messages
    assert {example: codes.code_check(example).valid for example in examples} == dict.fromkeys(examples, True)


def test_a_sequence_outside_six_digits_is_never_composed():
    for sequence in (0, codes.SEQUENCE_MAX + 1):
        with pytest.raises(ValueError, match="outside"):
            codes.compose(company="ACM", year_month="2612", product_type="MO", origin="DE", sequence=sequence)


# --- The algorithm, pinned ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "check_digits"),
    [
        # python-stdnum's own examples (stdnum/iso7064/mod_97_10.py)
        ("99991234567890121414", "90"),
        ("4354111611551114", "31"),
        ("22181321402534321446701611", "35"),
        # ISO 13616's IBAN example GB82 WEST 1234 5698 7654 32: the country and "00" moved to the end
        ("WEST12345698765432GB", "82"),
    ],
)
def test_check_digits_are_iso_7064_mod_97_10(number, check_digits):
    assert mod_97_10.calc_check_digits(number) == check_digits
    assert mod_97_10.is_valid(number + check_digits)


def test_a_code_check_digits_are_mod_97_10_over_the_code_without_dashes():
    # The check digits of the code are those of its other parts written together: a checker
    # elsewhere (a scanner app, a spreadsheet) can verify a code with any ISO 7064 library.
    for code in CODES[:50]:
        body = code[:-3].replace(codes.SEPARATOR, "")
        assert code[-2:] == mod_97_10.calc_check_digits(body)
        assert mod_97_10.is_valid(body + code[-2:])


def test_a_known_code_keeps_its_check_digits():
    # Labels already printed carry these: the algorithm or the order of the parts must never change.
    assert codes.compose(company="ACM", year_month="2612", product_type="MO", origin="DE", sequence=42) == (
        "ACM-2612-MO-DE-000042-15"
    )
    assert codes.compose(company="ZZZ", year_month="9912", product_type="VA", origin="ZW", sequence=999_999) == (
        "ZZZ-9912-VA-ZW-999999-76"
    )
