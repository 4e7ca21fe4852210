"""Pure checks on KYC documents: identifier checksums, expiry (uploaded files: apps.core.uploads).

Nothing here touches the database or storage: each function takes values and returns
CheckResult objects, so services, the API and the admin can show the same sentences to a
person and tests can call them directly. Previews are drawn elsewhere (apps/core/previews.py),
only ever in a limited child process of a worker.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from stdnum import exceptions as stdnum_exceptions
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

from apps.core.uploads import CheckResult

# Bank of Russia weights for the account control key ("Порядок расчета контрольного ключа в
# номере лицевого счета", letter No. 515 of 1997-09-08), repeated over BIC part + account.
ACCOUNT_KEY_WEIGHTS = ((7, 1, 3) * 8)[:23]


class DocumentType(models.TextChoices):
    INN = "inn", "INN (tax id)"
    OGRN = "ogrn", "OGRN / OGRNIP (registration number)"
    PASSPORT = "passport", "Passport or ID"
    BUSINESS_LICENSE = "business_license", "Business license"
    INSURANCE_CERTIFICATE = "insurance_certificate", "Insurance certificate"
    BANK_DETAILS = "bank_details", "Bank details"


def _without_spaces(value: str) -> str:
    return "".join(value.split())


# --- numbers -------------------------------------------------------------------------------


def check_inn(number: str) -> CheckResult:
    """Passes when `number` is a 10-digit (company) or 12-digit (person) INN with valid check digits."""
    name = "inn_checksum"
    number = stdnum_inn.compact(number or "")
    if not number:
        return CheckResult(name, False, "No INN was given.")
    try:
        stdnum_inn.validate(number)
    except stdnum_exceptions.InvalidLength:
        return CheckResult(
            name,
            False,
            f"INN {number} has {len(number)} digits; a company's INN has 10 digits and a person's has 12.",
        )
    except stdnum_exceptions.InvalidFormat:  # after InvalidLength, its subclass
        return CheckResult(name, False, f"INN {number} must contain digits only.")
    except stdnum_exceptions.ValidationError:
        return CheckResult(name, False, f"INN {number} has a wrong check digit; check the number for typos.")
    if len(number) == 10:
        return CheckResult(name, True, f"INN {number} (a company's, 10 digits) has a valid check digit.")
    return CheckResult(name, True, f"INN {number} (a person's, 12 digits) has valid check digits.")


def _is_ogrnip_with_two_digit_remainder(number: str) -> bool:
    # stdnum.ru.ogrn (2.2) compares the last digit with the whole remainder modulo 13, so it
    # rejects every OGRNIP whose remainder is 10, 11 or 12. The check digit is the remainder's
    # last digit (the Russian Wikipedia article on OGRNIP that stdnum cites: "младший разряд
    # остатка"), as stdnum already does for the 13-digit OGRN (% 11 % 10).
    return len(number) == 15 and number[0] == "3" and number[-1] == str(int(number[:-1]) % 13 % 10)


def check_ogrn(number: str) -> CheckResult:
    """Passes when `number` is a 13-digit company OGRN or 15-digit sole proprietor's OGRNIP with a valid check digit."""
    name = "ogrn_checksum"
    number = stdnum_ogrn.compact(number or "")
    if not number:
        return CheckResult(name, False, "No OGRN or OGRNIP was given.")
    kind = {13: "OGRN", 15: "OGRNIP"}.get(len(number), "OGRN")
    try:
        stdnum_ogrn.validate(number)
    except stdnum_exceptions.InvalidLength:
        return CheckResult(
            name,
            False,
            f"{number} has {len(number)} digits; a company's OGRN has 13 digits and a sole proprietor's OGRNIP has 15.",
        )
    except stdnum_exceptions.InvalidFormat:  # after InvalidLength, its subclass
        return CheckResult(name, False, f"{kind} {number} must contain digits only.")
    except stdnum_exceptions.InvalidComponent:
        first = "1 or 5" if kind == "OGRN" else "3"
        return CheckResult(name, False, f"{kind} {number} cannot start with {number[0]}; it should start with {first}.")
    except stdnum_exceptions.InvalidChecksum:
        if not _is_ogrnip_with_two_digit_remainder(number):
            return CheckResult(name, False, f"{kind} {number} has a wrong check digit; check the number for typos.")
    if kind == "OGRN":
        return CheckResult(name, True, f"OGRN {number} (a company's registration number) has a valid check digit.")
    return CheckResult(
        name, True, f"OGRNIP {number} (a sole proprietor's registration number) has a valid check digit."
    )


def check_bic(bic: str) -> CheckResult:
    """Passes when `bic` looks like a Russian bank's BIC: 9 digits starting with 04."""
    name = "bic_format"
    bic = _without_spaces(bic or "")
    if not bic:
        return CheckResult(name, False, "No BIC was given.")
    if not bic.isascii() or not bic.isdigit():
        return CheckResult(name, False, f"BIC {bic} must contain digits only.")
    if len(bic) != 9:
        return CheckResult(name, False, f"BIC {bic} has {len(bic)} digits; a BIC has 9.")
    if not bic.startswith("04"):
        return CheckResult(name, False, f"BIC {bic} does not start with 04, as a Russian bank's BIC does.")
    return CheckResult(name, True, f"BIC {bic} has the form of a Russian bank's BIC.")


def check_bank_account(account: str, bic: str) -> CheckResult:
    """Passes when the 20-digit `account` carries the control key the Bank of Russia algorithm gives with `bic`.

    The key is computed over 23 digits: three taken from the BIC, then the account. A
    correspondent account (301...) is held at a Bank of Russia settlement-cash centre, so the
    three digits are "0" + BIC digits 5-6; any other account is held at the bank itself and
    uses the BIC's last three digits. Weights 7, 1, 3 repeat; the sum must end in 0.
    """
    name = "bank_account_checksum"
    account = _without_spaces(account or "")
    if not account:
        return CheckResult(name, False, "No bank account number was given.")
    if not account.isascii() or not account.isdigit():
        return CheckResult(name, False, f"Account {account} must contain digits only.")
    if len(account) != 20:
        return CheckResult(name, False, f"Account {account} has {len(account)} digits; a bank account has 20.")
    bic_result = check_bic(bic)
    if not bic_result.passed:
        return CheckResult(
            name, False, f"Account {account} cannot be checked without a valid BIC: {bic_result.message}"
        )
    bic = _without_spaces(bic)
    is_correspondent_account = account.startswith("301")
    bic_part = "0" + bic[4:6] if is_correspondent_account else bic[-3:]
    total = sum(int(digit) * weight for digit, weight in zip(bic_part + account, ACCOUNT_KEY_WEIGHTS, strict=True))
    if total % 10 != 0:
        return CheckResult(
            name,
            False,
            f"Account {account} does not match BIC {bic}: the control key is wrong. Check both numbers for typos.",
        )
    return CheckResult(name, True, f"Account {account} has a valid control key for BIC {bic}.")


def number_checks(document_type: str, number: str, fields: dict) -> list[CheckResult]:
    """The checksum checks that apply to `document_type`; [] for documents without such a number.

    Raises ValueError for a `document_type` that is not a DocumentType.
    """
    if document_type not in DocumentType.values:
        raise ValueError(f"Unknown document type {document_type!r}.")
    if document_type == DocumentType.INN:
        return [check_inn(number)]
    if document_type == DocumentType.OGRN:
        return [check_ogrn(number)]
    if document_type != DocumentType.BANK_DETAILS:
        return []
    bic = fields.get("bic")
    account = fields.get("account")
    bic_missing = bic is None or not str(bic).strip()
    account_missing = account is None or not str(account).strip()
    results = [
        CheckResult("bic_format", False, "Bank details need the bank's BIC; none was given.")
        if bic_missing
        else check_bic(str(bic))
    ]
    if account_missing:
        results.append(
            CheckResult("bank_account_checksum", False, "Bank details need an account number; none was given.")
        )
    elif bic_missing:
        results.append(
            CheckResult("bank_account_checksum", False, "The account number cannot be checked without the bank's BIC.")
        )
    else:
        results.append(check_bank_account(str(account), str(bic)))
    return results


# --- dates ---------------------------------------------------------------------------------


def expiry_check(expires_on: date | None, today: date) -> CheckResult:
    """Passes unless the document's expiry date is before `today` (a document is valid on its last day)."""
    name = "not_expired"
    if expires_on is None:
        return CheckResult(name, True, "The document has no expiry date.")
    if expires_on < today:
        return CheckResult(name, False, f"The document expired on {expires_on.isoformat()}.")
    if expires_on == today:
        return CheckResult(name, True, f"The document is valid until {expires_on.isoformat()}, which is today.")
    return CheckResult(name, True, f"The document is valid until {expires_on.isoformat()}.")
