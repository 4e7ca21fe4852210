"""The pure KYC checks: identifier checksums, uploaded files, expiry and previews (no database)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfWriter

from apps.core.previews import render_preview_png
from apps.core.uploads import CheckResult, file_checks, sniff_content_type
from apps.kyc.checks import (
    DocumentType,
    check_bank_account,
    check_bic,
    check_inn,
    check_ogrn,
    expiry_check,
    number_checks,
)

MB = 1024 * 1024

# Published by the companies themselves (checked with stdnum.ru.inn / stdnum.ru.ogrn).
REAL_COMPANIES = [
    pytest.param("7707083893", "1027700132195", id="sberbank"),
    pytest.param("7736050003", "1027700070518", id="gazprom"),
    pytest.param("7736207543", "1027700229193", id="yandex"),
]
# Sberbank's correspondent account at the Bank of Russia, as printed in its bank details.
SBERBANK_BIC = "044525225"
SBERBANK_CORRESPONDENT_ACCOUNT = "30101810400000000225"
# The worked examples of Bank of Russia letter No. 515 (1997): a correspondent account opened
# in a settlement-cash centre, and a client's account opened in a credit institution.
CBR_EXAMPLE_CENTRE_BIC, CBR_EXAMPLE_CORRESPONDENT_ACCOUNT = "049805000", "30101810800000000746"
CBR_EXAMPLE_BANK_BIC, CBR_EXAMPLE_CLIENT_ACCOUNT = "049805746", "40602810700000000025"
# Examples from stdnum's documentation.
PERSONAL_INN = "123456789047"
OGRNIP = "385768585948949"


def change_one_digit(number: str, position: int = -1) -> str:
    digits = list(number)
    digits[position] = str((int(digits[position]) + 1) % 10)
    return "".join(digits)


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


def failed_names(results: list[CheckResult]) -> set[str]:
    return {result.name for result in results if not result.passed}


def pdf_bytes(*, password: str | None = None, width: float = 200, height: float = 100) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=width, height=height)
    if password is not None:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_bytes(image_format: str, *, size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


def checks_for(data: bytes, filename: str, declared: str | None = None, max_bytes: int = 10 * MB):
    return by_name(file_checks(data=data, filename=filename, declared_content_type=declared, max_bytes=max_bytes))


# --- CheckResult ---------------------------------------------------------------------------


def test_check_result_as_dict_carries_name_outcome_and_message():
    # given
    result = CheckResult("inn_checksum", False, "INN 1 has 1 digits.")

    # when
    as_dict = result.as_dict()

    # then
    assert as_dict == {"name": "inn_checksum", "passed": False, "message": "INN 1 has 1 digits."}


def test_document_type_values_are_the_stored_codes():
    assert DocumentType.values == [
        "inn",
        "ogrn",
        "passport",
        "business_license",
        "insurance_certificate",
        "bank_details",
    ]


# --- INN / OGRN ----------------------------------------------------------------------------


@pytest.mark.parametrize(("inn", "ogrn"), REAL_COMPANIES)
def test_real_company_inn_passes(inn, ogrn):
    result = check_inn(inn)

    assert result.passed
    assert result.name == "inn_checksum"
    assert result.message == f"INN {inn} (a company's, 10 digits) has a valid check digit."


@pytest.mark.parametrize(("inn", "ogrn"), REAL_COMPANIES)
@pytest.mark.parametrize("position", [0, 4, -1])
def test_company_inn_with_one_digit_changed_fails(inn, ogrn, position):
    # given
    mistyped = change_one_digit(inn, position)

    # when
    result = check_inn(mistyped)

    # then
    assert not result.passed
    assert "wrong check digit" in result.message


@pytest.mark.parametrize(("inn", "ogrn"), REAL_COMPANIES)
def test_real_company_ogrn_passes_and_says_it_is_a_company_ogrn(inn, ogrn):
    result = check_ogrn(ogrn)

    assert result.passed
    assert result.name == "ogrn_checksum"
    assert result.message.startswith(f"OGRN {ogrn} (a company's registration number)")


@pytest.mark.parametrize(("inn", "ogrn"), REAL_COMPANIES)
@pytest.mark.parametrize("position", [3, -2, -1])
def test_company_ogrn_with_one_digit_changed_fails(inn, ogrn, position):
    result = check_ogrn(change_one_digit(ogrn, position))

    assert not result.passed
    assert "wrong check digit" in result.message


def test_personal_inn_with_valid_check_digits_passes():
    result = check_inn(PERSONAL_INN)

    assert result.passed
    assert "a person's, 12 digits" in result.message


@pytest.mark.parametrize("position", [-2, -1, 0])
def test_personal_inn_with_one_digit_changed_fails(position):
    result = check_inn(change_one_digit(PERSONAL_INN, position))

    assert not result.passed


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("", "No INN was given."),
        ("77070838", "has 8 digits"),
        ("77070838931", "has 11 digits"),
        ("77070838A3", "digits only"),
    ],
)
def test_malformed_inn_fails_saying_what_is_wrong(number, expected):
    result = check_inn(number)

    assert not result.passed
    assert expected in result.message


def test_inn_with_spaces_is_read_without_them():
    assert check_inn(" 7707 083 893 ").passed


def test_ogrnip_passes_and_says_it_is_a_sole_proprietors_number():
    result = check_ogrn(OGRNIP)

    assert result.passed
    assert result.message.startswith(f"OGRNIP {OGRNIP} (a sole proprietor's registration number)")


@pytest.mark.parametrize("position", [-2, -1, 5])
def test_ogrnip_with_one_digit_changed_fails(position):
    result = check_ogrn(change_one_digit(OGRNIP, position))

    assert not result.passed
    assert result.message.startswith("OGRNIP ")


@pytest.mark.parametrize(
    ("first_fourteen", "check_digit"),
    [("30477000000002", "0"), ("30477000000003", "1"), ("30477000000004", "2")],
)
def test_ogrnip_whose_remainder_has_two_digits_takes_its_last_digit(first_fourteen, check_digit):
    # given a number whose first 14 digits leave 10, 11 or 12 modulo 13
    assert int(first_fourteen) % 13 == 10 + int(check_digit)

    # when
    result = check_ogrn(first_fourteen + check_digit)

    # then
    assert result.passed, result.message


def test_ogrnip_whose_remainder_has_two_digits_rejects_other_check_digits():
    assert not check_ogrn("30477000000002" + "1").passed


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("", "No OGRN or OGRNIP was given."),
        ("10277001321", "has 11 digits"),
        ("0027700132195", "cannot start with 0"),
        ("102770013219X", "digits only"),
    ],
)
def test_malformed_ogrn_fails_saying_what_is_wrong(number, expected):
    result = check_ogrn(number)

    assert not result.passed
    assert expected in result.message


# --- BIC and account -----------------------------------------------------------------------


def test_russian_bic_passes():
    result = check_bic(SBERBANK_BIC)

    assert result.passed
    assert result.name == "bic_format"


@pytest.mark.parametrize(
    ("bic", "expected"),
    [
        ("", "No BIC was given."),
        ("04452522", "has 8 digits"),
        ("0445252250", "has 10 digits"),
        ("14452522" + "5", "does not start with 04"),
        ("04452522X", "digits only"),
    ],
)
def test_malformed_bic_fails_saying_what_is_wrong(bic, expected):
    result = check_bic(bic)

    assert not result.passed
    assert expected in result.message


@pytest.mark.parametrize(
    ("account", "bic"),
    [
        pytest.param(SBERBANK_CORRESPONDENT_ACCOUNT, SBERBANK_BIC, id="sberbank-correspondent"),
        pytest.param(CBR_EXAMPLE_CORRESPONDENT_ACCOUNT, CBR_EXAMPLE_CENTRE_BIC, id="cbr-example-correspondent"),
        pytest.param(CBR_EXAMPLE_CLIENT_ACCOUNT, CBR_EXAMPLE_BANK_BIC, id="cbr-example-client-account"),
    ],
)
def test_account_with_the_control_key_of_its_bic_passes(account, bic):
    result = check_bank_account(account, bic)

    assert result.passed, result.message
    assert result.name == "bank_account_checksum"


@pytest.mark.parametrize("position", [0, 8, 12, -1])
def test_account_with_one_digit_changed_fails(position):
    result = check_bank_account(change_one_digit(SBERBANK_CORRESPONDENT_ACCOUNT, position), SBERBANK_BIC)

    assert not result.passed
    assert "control key is wrong" in result.message


@pytest.mark.parametrize("position", [-1, -2, 4, 5])
def test_account_against_a_bic_with_one_digit_changed_fails(position):
    # given positions 5-6 key a correspondent account, 7-9 a client's account
    account, bic = (
        (SBERBANK_CORRESPONDENT_ACCOUNT, SBERBANK_BIC)
        if position in (4, 5)
        else (CBR_EXAMPLE_CLIENT_ACCOUNT, CBR_EXAMPLE_BANK_BIC)
    )

    # when
    result = check_bank_account(account, change_one_digit(bic, position))

    # then
    assert not result.passed


def test_correspondent_account_is_keyed_with_the_centre_number_from_the_banks_own_bic():
    # given the bank's own BIC, whose last three digits (746) would not key this account
    bank_bic = CBR_EXAMPLE_BANK_BIC

    # when the bank's correspondent account is checked against it
    result = check_bank_account(CBR_EXAMPLE_CORRESPONDENT_ACCOUNT, bank_bic)

    # then "0" + BIC digits 5-6 (005) are used, as for the settlement-cash centre's BIC
    assert result.passed, result.message


@pytest.mark.parametrize(
    ("account", "bic", "expected"),
    [
        ("3010181040000000022", SBERBANK_BIC, "has 19 digits"),
        ("3010181040000000022X", SBERBANK_BIC, "digits only"),
        ("", SBERBANK_BIC, "No bank account number was given."),
        (SBERBANK_CORRESPONDENT_ACCOUNT, "12345", "without a valid BIC"),
    ],
)
def test_malformed_account_fails_saying_what_is_wrong(account, bic, expected):
    result = check_bank_account(account, bic)

    assert not result.passed
    assert expected in result.message


# --- number_checks -------------------------------------------------------------------------


def test_number_checks_for_inn_checks_the_inn():
    results = number_checks(DocumentType.INN, "7707083894", {})

    assert [(result.name, result.passed) for result in results] == [("inn_checksum", False)]


def test_number_checks_for_ogrn_checks_the_ogrn():
    results = number_checks("ogrn", "1027700132195", {})

    assert [(result.name, result.passed) for result in results] == [("ogrn_checksum", True)]


def test_number_checks_for_bank_details_checks_bic_and_account():
    results = number_checks(
        DocumentType.BANK_DETAILS, "", {"bic": SBERBANK_BIC, "account": SBERBANK_CORRESPONDENT_ACCOUNT}
    )

    assert [(result.name, result.passed) for result in results] == [
        ("bic_format", True),
        ("bank_account_checksum", True),
    ]


@pytest.mark.parametrize(
    ("fields", "expected_failures"),
    [
        ({"account": SBERBANK_CORRESPONDENT_ACCOUNT}, {"bic_format", "bank_account_checksum"}),
        ({"bic": SBERBANK_BIC}, {"bank_account_checksum"}),
        ({"bic": "  ", "account": None}, {"bic_format", "bank_account_checksum"}),
    ],
)
def test_number_checks_for_bank_details_with_a_missing_field_fails_naming_it(fields, expected_failures):
    results = number_checks(DocumentType.BANK_DETAILS, "", fields)

    assert failed_names(results) == expected_failures
    messages = " ".join(result.message for result in results if not result.passed)
    if "bic_format" in expected_failures:
        assert "BIC" in messages
    if "account" not in fields or not fields["account"]:
        assert "account number" in messages


@pytest.mark.parametrize(
    "document_type",
    [DocumentType.PASSPORT, DocumentType.BUSINESS_LICENSE, DocumentType.INSURANCE_CERTIFICATE],
)
def test_number_checks_for_documents_without_a_checksum_number_is_empty(document_type):
    assert number_checks(document_type, "AB 123456", {}) == []


def test_number_checks_for_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="Unknown document type"):
        number_checks("driving_licence", "123", {})


# --- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"PK\x03\x04\x14\x00", None),
        (b"<!DOCTYPE html>", None),
        (b"", None),
    ],
)
def test_sniff_content_type_reads_magic_bytes(head, expected):
    assert sniff_content_type(head) == expected


def test_small_pdf_passes_every_file_check():
    # given
    data = pdf_bytes()

    # when
    results = file_checks(data=data, filename="registration.pdf", declared_content_type="application/pdf", max_bytes=MB)

    # then
    assert failed_names(results) == set()
    assert set(by_name(results)) == {
        "file_name",
        "file_not_empty",
        "file_size",
        "file_type",
        "file_extension",
        "file_declared_type",
        "file_readable",
        "pdf_not_encrypted",
    }


@pytest.mark.parametrize(
    ("image_format", "filename", "declared"),
    [("PNG", "scan.png", "image/png"), ("JPEG", "Photo.JPEG", "image/jpeg"), ("JPEG", "photo.jpg", "image/jpg")],
)
def test_png_and_jpeg_with_matching_names_pass(image_format, filename, declared):
    results = file_checks(
        data=image_bytes(image_format), filename=filename, declared_content_type=declared, max_bytes=MB
    )

    assert failed_names(results) == set()


def test_empty_file_fails():
    results = checks_for(b"", "passport.pdf")

    assert not results["file_not_empty"].passed
    assert results["file_not_empty"].message == "The file is empty."
    assert "file_type" not in results


def test_oversize_file_fails_giving_both_sizes_in_megabytes():
    # given a valid PDF padded past a 1 MB limit
    data = pdf_bytes() + b"\n" * (2 * MB)

    # when
    results = checks_for(data, "license.pdf", max_bytes=MB)

    # then
    size = results["file_size"]
    assert not size.passed
    assert size.message == "The file is 2 MB; the limit is 1 MB."


def test_file_at_exactly_the_limit_passes_the_size_check():
    data = pdf_bytes()

    assert checks_for(data, "license.pdf", max_bytes=len(data))["file_size"].passed


def test_zip_archive_renamed_pdf_fails_saying_it_is_a_zip_archive():
    # given
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")

    # when
    results = checks_for(buffer.getvalue(), "certificate.pdf", declared="application/pdf")

    # then
    assert not results["file_type"].passed
    assert "a ZIP archive" in results["file_type"].message
    assert "pdf_not_encrypted" not in results


def test_html_page_renamed_pdf_fails_saying_it_is_an_html_page():
    data = b"\xef\xbb\xbf\n  <!DOCTYPE html>\n<html><body>Login to your bank</body></html>"

    results = checks_for(data, "statement.pdf")

    assert not results["file_type"].passed
    assert "an HTML page" in results["file_type"].message


def test_unknown_content_fails_without_guessing():
    results = checks_for(b"just some text", "notes.pdf")

    assert results["file_type"].message == "The file is not a PDF, JPEG or PNG: its type could not be recognised."


def test_png_named_pdf_fails_the_extension_check():
    results = checks_for(image_bytes("PNG"), "passport.pdf")

    assert results["file_type"].passed
    assert not results["file_extension"].passed
    assert "a PNG image" in results["file_extension"].message
    assert ".png" in results["file_extension"].message


def test_file_name_without_extension_fails_the_extension_check():
    results = checks_for(pdf_bytes(), "passport")

    assert not results["file_extension"].passed


def test_declared_content_type_that_disagrees_with_the_content_fails():
    results = checks_for(pdf_bytes(), "passport.pdf", declared="image/png")

    assert not results["file_declared_type"].passed
    assert "sent as image/png" in results["file_declared_type"].message


def test_declared_content_type_with_parameters_is_compared_by_its_type():
    assert checks_for(pdf_bytes(), "passport.pdf", declared="Application/PDF; name=x")["file_declared_type"].passed


def test_encrypted_pdf_fails_the_encryption_check():
    results = checks_for(pdf_bytes(password="pw"), "bank.pdf")

    assert results["file_readable"].passed
    assert not results["pdf_not_encrypted"].passed
    assert "password-protected" in results["pdf_not_encrypted"].message


def test_pdf_that_cannot_be_parsed_fails_readability():
    results = checks_for(b"%PDF-1.7\n" + b"\x00garbage" * 100, "broken.pdf")

    assert results["file_type"].passed
    assert not results["file_readable"].passed
    assert "pdf_not_encrypted" not in results


def test_truncated_png_fails_readability():
    results = checks_for(image_bytes("PNG")[:30], "scan.png")

    assert not results["file_readable"].passed


@pytest.mark.parametrize(
    "filename",
    ["../x.pdf", "a/b.pdf", "C:\\x.pdf", "..", "x.pdf\x00.png", "invoice\u202efdp.exe", "report\n.pdf", ""],
)
def test_file_name_with_a_path_or_control_characters_fails(filename):
    results = checks_for(pdf_bytes(), filename)

    assert not results["file_name"].passed


@pytest.mark.parametrize("filename", ["passport.pdf", "Паспорт стр. 2-3.pdf", "scan (1).PDF"])
def test_plain_file_names_pass(filename):
    assert checks_for(pdf_bytes(), filename)["file_name"].passed


# --- expiry --------------------------------------------------------------------------------


def test_document_past_its_expiry_date_fails():
    result = expiry_check(date(2026, 1, 31), today=date(2026, 2, 1))

    assert not result.passed
    assert result.name == "not_expired"
    assert "expired on 2026-01-31" in result.message


def test_document_on_its_last_day_passes():
    assert expiry_check(date(2026, 1, 31), today=date(2026, 1, 31)).passed


def test_document_expiring_later_passes():
    result = expiry_check(date(2027, 1, 31), today=date(2026, 1, 31))

    assert result.passed
    assert "2027-01-31" in result.message


def test_document_without_expiry_date_passes():
    assert expiry_check(None, today=date(2026, 1, 31)).passed


# --- previews ------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_preview_of_a_tiny_png_is_a_png():
    preview = render_preview_png(image_bytes("PNG"), "image/png")

    assert preview is not None
    assert preview.startswith(b"\x89PNG")
    assert png_size(preview) == (40, 20)


def test_preview_of_a_wide_jpeg_is_scaled_down_to_max_width():
    preview = render_preview_png(image_bytes("JPEG", size=(1000, 500)), "image/jpeg", max_width=100)

    assert preview is not None
    assert preview.startswith(b"\x89PNG")
    assert png_size(preview) == (100, 50)


def test_preview_of_a_tiny_pdf_renders_its_first_page():
    preview = render_preview_png(pdf_bytes(width=200, height=100), "application/pdf", max_width=400)

    assert preview is not None
    assert preview.startswith(b"\x89PNG")
    assert png_size(preview) == (400, 200)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"%PDF-1.7 nothing else", "application/pdf"),
        (pdf_bytes(password="pw"), "application/pdf"),
        (b"\x89PNG\r\n\x1a\n broken", "image/png"),
        (b"<html></html>", "text/html"),
    ],
)
def test_preview_of_what_cannot_be_drawn_is_none(data, content_type):
    assert render_preview_png(data, content_type) is None
