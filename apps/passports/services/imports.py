"""Registering a batch of devices from a CSV file (a manufacturer's production run): every row
is checked, then all of them are registered in one transaction, or none is.

The file: UTF-8 (a byte order mark is tolerated: Excel's "CSV UTF-8" writes one), comma- or
semicolon-separated (whichever the header line uses more of: Excel writes semicolons where
the decimal separator is a comma), a header row naming the columns in any order (COLUMNS;
REQUIRED_COLUMNS must be there), then one device a row. Blank lines are skipped. Rows are
reported by their line in the file, the header being line 1.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import DomainError, ErrorCode, ValidationFailed
from apps.passports.services.passports import PassportInput, gtin_14, passport_input_errors, passport_register

logger = logging.getLogger(__name__)

COLUMNS = (
    "device_name",
    "manufacturer",
    "model",
    "serial_number",
    "product_type",
    "origin_country",
    "gtin",
    "warranty_until",
    "current_location",
    "latitude",
    "longitude",
    "description",
    "manufactured_at",
)
REQUIRED_COLUMNS = ("device_name", "manufacturer", "serial_number", "product_type", "origin_country")
EXAMPLE_ROW = {
    "device_name": "Servo motor 7.5 kW",
    "manufacturer": "Acme Drives",
    "model": "SM-750",
    "serial_number": "SN-000001",
    "product_type": "MO",
    "origin_country": "DE",
    "gtin": "04012345123456",
    "warranty_until": "2029-12-31",
    "current_location": "Plant 2, Stuttgart",
    "latitude": "48.775800",
    "longitude": "9.182900",
    "description": "Line 4 spare",
    "manufactured_at": "2026-03-01T08:00:00Z",
}
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
COORDINATE_PLACES = Decimal("0.000001")
# Also keeps a time whose offset would move it before year 1 in UTC out of the database.
EARLIEST_MANUFACTURE = datetime(1900, 1, 1, tzinfo=UTC)
# What the start of a file that is no CSV says it is (people pick the workbook by mistake).
NOT_CSV = (
    (b"PK\x03\x04", 'an Excel workbook or another ZIP archive: save it as "CSV UTF-8" first'),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 'an old Excel workbook (.xls): save it as "CSV UTF-8" first'),
    (b"%PDF-", "a PDF"),
)


@dataclass
class ImportedPassport:
    row: int
    id: UUID
    code: str


@dataclass
class ImportReport:
    """What an import did: `rows` read, and the passports it registered (none on a dry run)."""

    rows: int
    dry_run: bool
    passports: list[ImportedPassport] = field(default_factory=list)

    @property
    def created(self) -> int:
        return len(self.passports)


@dataclass
class _Row:
    line: int
    data: PassportInput | None
    errors: dict[str, list[str]]


def passports_import_template() -> str:
    """The CSV a batch import takes: the header line and one example row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE_ROW[name] for name in COLUMNS])
    return out.getvalue()


def _file_error(message: str, **details) -> ValidationFailed:
    return ValidationFailed(message, details={"file": [message], **details})


def _text_of(data: bytes) -> str:
    if not data.strip():
        raise _file_error("The file is empty.")
    limit = settings.PASSPORTS["MAX_FILE_BYTES"]
    if len(data) > limit:
        raise _file_error(f"The file is {len(data):,} bytes; an import takes at most {limit:,}.")
    for magic, what in NOT_CSV:
        if data.startswith(magic):
            raise _file_error(f"This is not a CSV file but {what}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _file_error(
            f'The file is not UTF-8 text (byte {error.start + 1} is not): save it as "CSV UTF-8".'
        ) from None
    if "\x00" in text:
        raise _file_error("The file contains NUL characters: it is not a text file.")
    return text


def _header(reader) -> list[str]:
    try:
        cells = next(reader, [])
    except csv.Error as error:
        raise _file_error(f"The header line cannot be read: {error}.") from None
    names = [cell.strip().lower() for cell in cells]
    while names and not names[-1]:  # a spreadsheet's empty trailing cells
        names.pop()
    if not any(names):
        raise _file_error("The first line must name the columns: " + ", ".join(COLUMNS) + ".")
    problems, details = [], {}
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        shown = ", ".join(repr(name) for name in unknown)
        problems.append(f"Unknown columns: {shown}. The columns are: {', '.join(COLUMNS)}.")
        details["unknown_columns"] = unknown
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        problems.append(f"Required columns missing: {', '.join(missing)}.")
        details["missing_columns"] = missing
    repeated = sorted({name for name in names if names.count(name) > 1 and name in COLUMNS})
    if repeated:
        problems.append(f"Columns named twice: {', '.join(repeated)}.")
        details["repeated_columns"] = repeated
    if problems:
        raise ValidationFailed(
            "The header line is not one an import takes. " + " ".join(problems), details={"file": problems, **details}
        )
    return names


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _records(text: str, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's column names and the non-blank rows with the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = _header(reader)
    limit = settings.PASSPORTS["IMPORT_MAX_ROWS"]
    records = []
    previous_line = reader.line_num
    try:
        for cells in reader:
            line, previous_line = previous_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(records) == limit:
                raise _file_error(f"The file has more than {limit:,} rows; split it into several imports.")
            records.append((line, cells))
    except csv.Error as error:
        raise _file_error(f"Line {reader.line_num} cannot be read: {error}.") from None
    if not records:
        raise _file_error("The file has a header but no rows.")
    return header, records


def _coordinate(text: str, *, decimal_comma: bool) -> Decimal | None:
    if not text:
        return None
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("A number in degrees, e.g. 48.7758.") from None
    if not value.is_finite():
        raise ValueError("A number in degrees, e.g. 48.7758.")
    if abs(value) > 180:
        return value  # out of range, as passport_input_errors says (too large to round, maybe)
    return value.quantize(COORDINATE_PLACES)


def _row(line: int, values: dict[str, str], *, extra_cells: bool, organization_id: UUID, decimal_comma: bool) -> _Row:
    """One row read into a PassportInput, with every problem it has by column."""
    errors: dict[str, list[str]] = {}
    if extra_cells:
        errors["row"] = ["More values than the header has columns."]
    warranty_until = None
    if text := values["warranty_until"]:
        try:
            warranty_until = parse_date(text) if DATE.match(text) else None
        except ValueError:  # well formed, impossible (a 30 February)
            warranty_until = None
        if warranty_until is None:
            errors["warranty_until"] = ["A date YYYY-MM-DD, e.g. 2029-12-31."]
    manufactured_at = None
    if text := values["manufactured_at"]:
        try:
            manufactured_at = parse_datetime(text)  # a date alone reads as its midnight
        except ValueError:  # well formed, impossible (a 31 February, an hour 25)
            manufactured_at = None
        if manufactured_at is None:
            errors["manufactured_at"] = ["An ISO 8601 date and time, e.g. 2026-03-01T08:00:00Z."]
        else:
            if timezone.is_naive(manufactured_at):
                manufactured_at = timezone.make_aware(manufactured_at, UTC)
            if manufactured_at < EARLIEST_MANUFACTURE:
                errors["manufactured_at"] = ["Not before 1900."]
    coordinates = {}
    for name in ("latitude", "longitude"):
        try:
            coordinates[name] = _coordinate(values[name], decimal_comma=decimal_comma)
        except ValueError as error:
            coordinates[name] = None
            errors[name] = [str(error)]
    data = PassportInput(
        device_name=values["device_name"],
        manufacturer=values["manufacturer"],
        model=values["model"],
        serial_number=values["serial_number"],
        product_type=values["product_type"].upper(),
        origin_country=values["origin_country"].upper(),
        gtin=values["gtin"],
        description=values["description"],
        current_location=values["current_location"],
        latitude=coordinates["latitude"],
        longitude=coordinates["longitude"],
        warranty_until=warranty_until,
        manufactured_at=manufactured_at,
    )
    # A value that could not be read is reported as such, not as what its absence leads to.
    errors = {**passport_input_errors(data, organization_id=organization_id), **errors}
    return _Row(line=line, data=None if errors else data, errors=errors)


def _device_keys(values: dict[str, str]) -> list[tuple]:
    """What makes the row's device one device: the database's two unique keys."""
    serial = values["serial_number"].strip()
    if not serial:
        return []
    keys = [("manufacturer", values["manufacturer"].strip().lower(), serial)]
    try:
        gtin = gtin_14(values["gtin"])
    except ValueError:
        gtin = ""
    if gtin:
        keys.append(("gtin", gtin, serial))
    return keys


def _mark_duplicates(rows: list[_Row], values_of: list[dict[str, str]]) -> None:
    lines_of: dict[tuple, list[int]] = {}
    for row, values in zip(rows, values_of, strict=True):
        for key in _device_keys(values):
            lines_of.setdefault(key, []).append(row.line)
    by_line = {row.line: row for row in rows}
    what = {"manufacturer": "manufacturer and serial number", "gtin": "GTIN and serial number"}
    for key, lines in lines_of.items():
        if len(lines) < 2:
            continue
        for line in lines:
            others = ", ".join(str(other) for other in lines if other != line)
            row = by_line[line]
            row.errors.setdefault("serial_number", []).append(f"The same device ({what[key[0]]}) as row {others}.")
            row.data = None


def _read(data: bytes, *, organization_id: UUID) -> list[_Row]:
    text = _text_of(data)
    delimiter = _delimiter(text)
    header, records = _records(text, delimiter)
    # Where the list separator is a semicolon, the decimal separator is usually a comma.
    decimal_comma = delimiter == ";"
    rows, values_of = [], []
    for line, cells in records:
        values = dict.fromkeys(COLUMNS, "")
        values.update({name: cell.strip() for name, cell in zip(header, cells, strict=False)})
        extra_cells = any(cell.strip() for cell in cells[len(header) :])
        rows.append(
            _row(line, values, extra_cells=extra_cells, organization_id=organization_id, decimal_comma=decimal_comma)
        )
        values_of.append(values)
    _mark_duplicates(rows, values_of)
    return rows


@transaction.atomic
def passports_import(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportReport:
    """Register every device of a CSV file (module docstring) for the actor's organization, in
    row order with consecutive sequences, or none: any row with a problem (a field, the same
    device twice in the file, a device that already has a passport, whoever owns it) is a 400
    VALIDATION_FIELD_INVALID whose details are `{"rows": [{"row": <line>, "errors": {column:
    [messages]}}, ...]}`, and nothing is kept. A problem of the file itself (empty, not UTF-8
    text, an unknown or missing column, over IMPORT_MAX_ROWS rows) is a 400 naming it.

    `dry_run`: every check, registration included, then everything is rolled back; the
    report lists no passport (the codes a real run issues may differ). One audit row
    `passport.imported` for a real import, besides each passport's own.

    Holds the organization's counter of the month from the first row to the end of the
    transaction: its other registrations wait for the import."""
    from apps.tenancy.selectors import organization_get
    from apps.tenancy.services import organization_code_ensure

    organization_id = actor.organization_id
    rows = _read(data, organization_id=organization_id)
    imported: list[ImportedPassport] = []
    with transaction.atomic():
        company = organization_code_ensure(organization_id=organization_id)
        name = organization_get(organization_id=organization_id).name
        for row in rows:
            if row.data is None:
                continue
            try:
                passport = passport_register(actor=actor, data=row.data, company_code=company, organization_name=name)
            except DomainError as error:
                # The device has a passport already (the unique constraint fired; the
                # registration's savepoint is rolled back): the row's problem, not the file's.
                if error.status_code != 400 and error.code != ErrorCode.VALIDATION_CONSTRAINT_VIOLATION:
                    raise
                row.errors = error.details or {"row": [error.message]}
                continue
            imported.append(ImportedPassport(row=row.line, id=passport.id, code=passport.code))
        failed = [row for row in rows if row.errors]
        if failed:
            raise ValidationFailed(
                f"{len(failed)} of {len(rows)} rows have problems; nothing was imported.",
                code=ErrorCode.VALIDATION_FIELD_INVALID,
                details={"rows": [{"row": row.line, "errors": row.errors} for row in failed]},
            )
        if dry_run:
            transaction.set_rollback(True)
    if dry_run:
        return ImportReport(rows=len(rows), dry_run=True)
    audit_record(
        action="passport.imported",
        resource_type="passport_import",
        new_values={
            "rows": len(rows),
            "created": len(imported),
            "first_code": imported[0].code,
            "last_code": imported[-1].code,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        organization_id=organization_id,
        actor=actor,
    )
    logger.info("passport.imported", extra={"organization_id": str(organization_id), "created": len(imported)})
    return ImportReport(rows=len(rows), dry_run=False, passports=imported)
