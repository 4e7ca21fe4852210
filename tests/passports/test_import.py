"""The CSV batch import through the API: a manufacturer registers a production run in one go,
all rows or none, with a per-row report of what is wrong (line numbers as in the file)."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog
from apps.passports import codes
from apps.passports.models import DevicePassport, PassportEvent
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.passports.conftest import register

pytestmark = pytest.mark.django_db

URL = "/api/v1/passports/imports"
HEADER = ("device_name", "manufacturer", "model", "serial_number", "product_type", "origin_country", "gtin")


def device(serial: str, **fields) -> dict:
    return {
        "device_name": "Servo motor 7.5 kW",
        "manufacturer": "Acme Drives",
        "model": "SM-750",
        "serial_number": serial,
        "product_type": "MO",
        "origin_country": "DE",
        "gtin": "",
        **fields,
    }


def csv_of(rows: list[dict], *, header=HEADER, delimiter: str = ",") -> bytes:
    lines = [delimiter.join(header)] + [delimiter.join(row.get(name, "") for name in header) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def upload(client, content: bytes, *, dry_run: bool = False, name: str = "devices.csv", **headers):
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(URL, {"file": file, "dry_run": "true" if dry_run else "false"}, format="multipart", **headers)


def passports_of(organization) -> list[DevicePassport]:
    with tenant_scope(organization.id):
        return list(DevicePassport.objects.order_by("sequence"))


def row_errors(response) -> dict[int, dict]:
    return {row["row"]: row["errors"] for row in response.json()["details"]["rows"]}


def test_a_batch_is_registered_in_row_order_with_consecutive_valid_codes(api, operator, manufacturer):
    content = csv_of([device("SN-1"), device("SN-2", gtin="4012345123456"), device("SN-3")])

    response = upload(api(operator), content)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["dry_run"], body["rows"], body["created"]) == (False, 3, 3)
    assert [row["row"] for row in body["passports"]] == [2, 3, 4]
    stored = {passport.id: passport for passport in passports_of(manufacturer)}
    imported = [stored[uuid.UUID(row["id"])] for row in body["passports"]]
    assert [passport.serial_number for passport in imported] == ["SN-1", "SN-2", "SN-3"]
    assert [passport.code for passport in imported] == [row["code"] for row in body["passports"]]
    first = imported[0].sequence
    assert [passport.sequence for passport in imported] == [first, first + 1, first + 2]
    assert all(codes.code_check(passport.code).valid for passport in imported)
    assert imported[1].gtin == "04012345123456"
    with tenant_scope(manufacturer.id):
        assert PassportEvent.objects.filter(passport__in=imported, kind="manufactured").count() == 3


def test_a_real_import_writes_one_import_audit_row_besides_each_passports_own(api, operator, manufacturer):
    upload(api(operator), csv_of([device("SN-1"), device("SN-2")]))

    with system_scope(reason="test reads the audit log", audit=False):
        actions = list(AuditLog.objects.filter(organization_id=manufacturer.id).values_list("action", flat=True))
        imported = AuditLog.objects.get(organization_id=manufacturer.id, action="passport.imported")
    assert actions.count("passport.imported") == 1 and actions.count("passport.registered") == 2
    assert (imported.new_values["rows"], imported.new_values["created"]) == (2, 2)
    assert imported.actor_id == operator.id


def test_three_bad_rows_are_reported_with_their_fields_and_nothing_is_created(api, operator, manufacturer):
    rows = [
        device("SN-1"),
        device("SN-2", product_type="ZZ"),  # line 3
        device("SN-3", device_name=""),  # line 4
        device("SN-4"),
        device("SN-5", gtin="4012345123457", origin_country="XX"),  # line 6: wrong check digit, no country
    ]

    response = upload(api(operator), csv_of(rows))

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    errors = row_errors(response)
    assert {line: sorted(fields) for line, fields in errors.items()} == {
        3: ["product_type"],
        4: ["device_name"],
        6: ["gtin", "origin_country"],
    }
    assert errors[6]["gtin"] == ["The GTIN's check digit is wrong."]
    assert passports_of(manufacturer) == []


def test_a_row_is_reported_by_the_line_it_starts_on_when_a_quoted_value_spans_lines(api, operator, manufacturer):
    header = (*HEADER, "description")
    content = (
        ",".join(header) + "\n"
        + ",".join(device("SN-1").values()) + ',"Two\nlines"\n'
        + ",".join(device("SN-2", product_type="ZZ").values()) + ",\n"
    ).encode()  # fmt: skip

    response = upload(api(operator), content)

    assert response.status_code == 400
    assert list(row_errors(response)) == [4]


@pytest.mark.parametrize(
    ("column", "value"),
    sorted(
        [
            ("warranty_until", "2029-02-30"),
            ("warranty_until", "31.12.2029"),
            ("manufactured_at", "yesterday"),
            ("manufactured_at", "0001-01-01T00:00:00+05:00"),
            ("manufactured_at", "2999-01-01T00:00:00Z"),
            ("latitude", "1e999999"),
            ("latitude", "NaN"),
            ("latitude", "north"),
        ]
    ),
)
def test_a_value_that_cannot_be_read_is_reported_on_its_column(api, operator, manufacturer, column, value):
    header = (*HEADER, "latitude", "longitude", "warranty_until", "manufactured_at")
    row = device("SN-1", **{"latitude": "48.1", "longitude": "11.5", column: value})

    response = upload(api(operator), csv_of([row], header=header))

    assert response.status_code == 400
    assert list(row_errors(response)[2]) == [column]
    assert passports_of(manufacturer) == []


def test_a_row_with_more_values_than_columns_is_reported(api, operator, manufacturer):
    content = csv_of([device("SN-1")]) + b"Motor,Acme Drives,SM-750,SN-2,MO,DE,,surplus\r\n"

    response = upload(api(operator), content)

    assert response.status_code == 400
    assert row_errors(response) == {3: {"row": ["More values than the header has columns."]}}


def test_the_same_device_twice_in_the_file_is_reported_on_each_row_involved(api, operator, manufacturer):
    rows = [
        device("SN-1"),
        device("SN-2", gtin="04012345123456"),
        device("SN-1", manufacturer="ACME DRIVES "),  # line 4: line 2's device, by maker and serial
        device("SN-2", gtin="4012345123456", manufacturer="Other GmbH"),  # line 5: line 3's, by GTIN and serial
        device("SN-3"),
    ]

    response = upload(api(operator), csv_of(rows))

    assert response.status_code == 400
    errors = row_errors(response)
    assert sorted(errors) == [2, 3, 4, 5]
    assert errors[2] == {"serial_number": ["The same device (manufacturer and serial number) as row 4."]}
    assert errors[4] == {"serial_number": ["The same device (manufacturer and serial number) as row 2."]}
    assert errors[5] == {"serial_number": ["The same device (GTIN and serial number) as row 3."]}
    assert passports_of(manufacturer) == []


def test_a_device_with_a_passport_in_another_organization_fails_its_row_and_nothing_is_kept(
    api, operator, manufacturer, claimant_admin, claimant_organization
):
    register(claimant_admin, claimant_organization, manufacturer="Acme Drives", serial_number="SN-2")

    response = upload(api(operator), csv_of([device("SN-1"), device("SN-2"), device("SN-3")]))

    assert response.status_code == 400
    assert row_errors(response) == {3: {"serial_number": ["A passport exists for this device."]}}
    assert passports_of(manufacturer) == []
    # The attempt left no gap: the next import starts the month's sequence at 1.
    retried = upload(api(operator), csv_of([device("SN-1"), device("SN-3")]))
    assert retried.status_code == 201
    assert [passport.sequence for passport in passports_of(manufacturer)] == [1, 2]


def test_a_semicolon_separated_file_with_decimal_commas_is_read(api, operator, manufacturer):
    header = (*HEADER, "latitude", "longitude", "warranty_until")
    row = device("SN-1", latitude="48,7758", longitude="9,1829", warranty_until="2029-12-31")

    response = upload(api(operator), csv_of([row], header=header, delimiter=";"))

    assert response.status_code == 201, response.json()
    (passport,) = passports_of(manufacturer)
    assert (str(passport.latitude), str(passport.longitude)) == ("48.775800", "9.182900")
    assert passport.warranty_until.isoformat() == "2029-12-31"


def test_a_byte_order_mark_before_the_header_is_tolerated(api, operator, manufacturer):
    response = upload(api(operator), b"\xef\xbb\xbf" + csv_of([device("SN-1")]))

    assert response.status_code == 201, response.json()
    assert [passport.serial_number for passport in passports_of(manufacturer)] == ["SN-1"]


def test_a_file_over_the_row_limit_is_refused_whole(api, operator, manufacturer, settings):
    settings.PASSPORTS = {**settings.PASSPORTS, "IMPORT_MAX_ROWS": 3}

    response = upload(api(operator), csv_of([device(f"SN-{n}") for n in range(4)]))

    assert response.status_code == 400
    assert "more than 3 rows" in response.json()["details"]["file"][0]
    assert passports_of(manufacturer) == []


def test_a_header_with_an_unknown_column_and_a_missing_one_names_both(api, operator, manufacturer):
    header = ("device_name", "manufacturer", "colour", "product_type", "origin_country")

    response = upload(api(operator), csv_of([{"device_name": "Motor", "colour": "red"}], header=header))

    assert response.status_code == 400
    details = response.json()["details"]
    assert (details["unknown_columns"], details["missing_columns"]) == (["colour"], ["serial_number"])
    assert passports_of(manufacturer) == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),  # DRF refuses an empty upload before the import reads it
        (b"\r\n\r\n", "empty"),
        (",".join(HEADER).encode() + b"\r\n", "no rows"),
        ("device_name\r\nMotör".encode("latin-1"), "UTF-8"),
        (b"PK\x03\x04" + bytes(64), "Excel"),
    ],
    ids=["no-bytes", "blank-lines", "header-only", "latin-1", "xlsx"],
)
def test_a_file_that_is_no_import_is_refused_with_what_it_is(api, operator, manufacturer, content, says):
    response = upload(api(operator), content)

    assert response.status_code == 400
    assert says.lower() in str(response.json()).lower()
    assert passports_of(manufacturer) == []


def test_a_dry_run_checks_everything_and_creates_nothing(api, operator, manufacturer):
    content = csv_of([device("SN-1"), device("SN-2")])

    response = upload(api(operator), content, dry_run=True)

    assert response.status_code == 200, response.json()
    assert response.json() == {"dry_run": True, "rows": 2, "created": 0, "passports": []}
    assert passports_of(manufacturer) == []
    with system_scope(reason="test reads the audit log", audit=False):
        assert not AuditLog.objects.filter(organization_id=manufacturer.id, action__startswith="passport.").exists()
    # Nor did it take sequence numbers.
    assert upload(api(operator), content).status_code == 201
    assert [passport.sequence for passport in passports_of(manufacturer)] == [1, 2]


def test_a_dry_run_reports_a_device_that_already_has_a_passport(
    api, operator, manufacturer, claimant_admin, claimant_organization
):
    register(claimant_admin, claimant_organization, manufacturer="Acme Drives", serial_number="SN-1")

    response = upload(api(operator), csv_of([device("SN-1")]), dry_run=True)

    assert response.status_code == 400
    assert list(row_errors(response)) == [2]


def test_the_import_is_refused_when_the_feature_is_off(api):
    organization = OrganizationFactory()
    operator = member(organization, role=Role.OPERATOR)

    response = upload(api(operator), csv_of([device("SN-1")]))

    assert response.status_code == 403
    assert response.json()["error_code"] == "FEATURE_DISABLED"


def test_a_qc_inspector_may_not_import(api, qc_inspector, manufacturer):
    response = upload(api(qc_inspector), csv_of([device("SN-1")]))

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert passports_of(manufacturer) == []


def test_a_retry_with_the_same_key_replays_the_first_import(api, operator, manufacturer):
    client = api(operator)
    content = csv_of([device("SN-1"), device("SN-2")])

    first = upload(client, content, HTTP_IDEMPOTENCY_KEY="batch-7")
    retry = upload(client, content, HTTP_IDEMPOTENCY_KEY="batch-7")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert len(passports_of(manufacturer)) == 2


def test_the_same_key_with_another_file_of_the_same_name_is_refused(api, operator, manufacturer):
    client = api(operator)
    upload(client, csv_of([device("SN-1")]), HTTP_IDEMPOTENCY_KEY="batch-8")

    other = upload(client, csv_of([device("SN-2")]), HTTP_IDEMPOTENCY_KEY="batch-8")

    assert other.status_code == 422
    assert other.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert [passport.serial_number for passport in passports_of(manufacturer)] == ["SN-1"]


def test_the_template_is_the_header_and_an_example_row_that_imports(api, operator, manufacturer):
    client = api(operator)

    template = client.get(f"{URL}/template")

    assert template.status_code == 200
    assert template["Content-Type"].startswith("text/csv")
    assert 'filename="passports-import-template.csv"' in template["Content-Disposition"]
    lines = template.content.decode().splitlines()
    assert lines[0].split(",")[:4] == ["device_name", "manufacturer", "model", "serial_number"]
    assert len(lines) == 2
    assert upload(client, template.content).status_code == 201
