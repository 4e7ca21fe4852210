"""The public scan of a device: GET /api/v1/scan/{code}, the page /p/<code> and its GS1 Digital
Link twin /01/<GTIN-14>/21/<serial>. No login, only the public fields, read through one narrow
path (a SECURITY DEFINER function) that also counts the scan, 404 alike for every code that is
not one, rate limited per IP, never indexed; the owner's members see more, by role."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from stdnum import ean

from apps.core.context import Scope, activate, tenant_scope
from apps.passports import qr, selectors_public, services
from apps.passports.models import DevicePassport, PassportEvent, PassportScan
from apps.tenancy.models import OrganizationFeature
from tests.passports.conftest import actor_of, register

pytestmark = pytest.mark.django_db

FUNCTION = "passports_public_scan"
SIGNATURE = f"{FUNCTION}(text, text, text, integer, boolean, text, text, numeric, numeric, boolean)"
GTIN_13 = "400638133393" + ean.calc_check_digit("400638133393")
SERIAL = "SN/2026/0042"  # a slash: the Digital Link percent-encodes it
SECRET_NOTE = "Keyed to Mr. Petrov's site, gate code 4711"


def at(day: str, hour: int = 23) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=30, tzinfo=UTC)


def step(user, organization, passport, kind: str, day: str, **fields) -> None:
    with tenant_scope(organization.id, user_id=user.id):
        services.passport_event_record(
            actor=actor_of(user, organization),
            passport_id=passport.id,
            data=services.LifecycleInput(kind=kind, occurred_at=at(day), **fields),
        )


@pytest.fixture
def device(operator, qc_inspector, engineer, customer, manufacturer):
    """An installed motor with a GTIN, kept for `customer`: a public history (manufactured, QC
    passed, shipped, installed) and one private step (received, with its place)."""
    passport = register(
        operator,
        manufacturer,
        manufacturer="Nordwind Motoren",
        serial_number=SERIAL,
        gtin=GTIN_13,
        description=SECRET_NOTE,
        warranty_until=date(2031, 3, 3),
        customer_id=customer.id,
        manufactured_at=at("2026-01-10"),
    )
    step(qc_inspector, manufacturer, passport, "qc_passed", "2026-01-12", note="Vibration 0.8 mm/s")
    step(operator, manufacturer, passport, "shipped", "2026-02-01", location="Port of Hamburg, berth 7")
    step(operator, manufacturer, passport, "received", "2026-02-10", location="Lager Süd", is_public=False)
    step(
        engineer,
        manufacturer,
        passport,
        "installed",
        "2026-03-03",
        location="Hall 3, Bremen plant",
        latitude=Decimal("53.079296"),
        longitude=Decimal("8.801694"),
        note=SECRET_NOTE,
    )
    with tenant_scope(manufacturer.id):
        return DevicePassport.objects.get(id=passport.id)


def public_body(device) -> dict:
    return {
        "code": device.code,
        "device_name": "Servo motor 7.5 kW",
        "manufacturer": "Nordwind Motoren",
        "model": "SM-750",
        "product_type": "MO",
        "product_type_label": "Electric motor",
        "origin_country": "DE",
        "status": "installed",
        "status_label": "Installed",
        "warranty": {"state": "active", "until": "2031-03-03"},
        "steps": [
            {"kind": "installed", "label": "Installed", "date": "2026-03-03"},
            {"kind": "shipped", "label": "Shipped", "date": "2026-02-01"},
            {"kind": "qc_passed", "label": "QC passed", "date": "2026-01-12"},
            {"kind": "manufactured", "label": "Manufactured", "date": "2026-01-10"},
        ],
    }


def scans(organization) -> list[PassportScan]:
    with tenant_scope(organization.id):
        return list(PassportScan.objects.order_by("id"))


# --- The narrow path ---------------------------------------------------------------------------


def _declared_result_columns() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proargnames, proargmodes, prosecdef, proconfig FROM pg_proc WHERE proname = %s", [FUNCTION]
        )
        ((names, modes, security_definer, config),) = cursor.fetchall()
    assert security_definer
    assert any(setting.startswith("search_path=") for setting in config)
    return [name for name, mode in zip(names, modes, strict=True) if mode == "t"]


def test_the_function_returns_exactly_the_public_columns():
    assert _declared_result_columns() == list(selectors_public.PUBLIC_COLUMNS)
    secret = {"id", "organization_id", "serial_number", "current_location", "latitude", "customer_id", "description"}
    assert secret.isdisjoint(selectors_public.PUBLIC_COLUMNS)


def test_only_the_application_role_may_execute_it():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_function_privilege('public', %s, 'EXECUTE'),"
            " has_function_privilege(current_user, %s, 'EXECUTE')",
            [SIGNATURE] * 2,
        )
        assert cursor.fetchone() == (False, True)


def test_without_a_tenant_the_tables_read_empty_but_the_path_answers_and_leaves_the_scope_as_it_was(
    device, manufacturer
):
    scan = selectors_public.Scan(channel="code")
    with activate(Scope()):  # the public page's scope: no user, no tenant
        assert DevicePassport.objects.count() == 0
        row = selectors_public.public_passport_row(code=device.code, scan=scan)
        assert selectors_public.public_passport_row(code="ACM-2612-MO-DE-000042-37") is None
        # neither the bypass nor the owner's tenant outlive the call
        assert DevicePassport.objects.count() == 0
        assert PassportEvent.objects.count() == 0
        assert PassportScan.objects.count() == 0

    assert list(row) == list(selectors_public.PUBLIC_COLUMNS)
    assert row["code"] == device.code and row["status"] == "installed"
    assert len(scans(manufacturer)) == 1


# --- GET /api/v1/scan/{code}: exactly the public body, and the owner's section by role -----------


def test_anyone_gets_exactly_the_public_fields(api, device):
    response = api().get(f"/api/v1/scan/{device.code}")

    assert response.status_code == 200
    assert response.json() == public_body(device)


def test_a_member_of_another_organization_gets_exactly_the_public_fields(api, device, claimant_admin):
    response = api(claimant_admin).get(f"/api/v1/scan/{device.code}")

    assert response.status_code == 200
    assert response.json() == public_body(device)


def test_a_member_of_the_owner_sees_the_owner_section(api, device, operator, customer, manufacturer):
    response = api(operator).get(f"/api/v1/scan/{device.code}")

    assert response.status_code == 200
    (scan,) = scans(manufacturer)
    assert scan.signed_in is True
    assert response.json() == {
        **public_body(device),
        "owner": {
            "passport_id": str(device.id),
            "serial_number": SERIAL,
            "current_location": "Hall 3, Bremen plant",
            "latitude": "53.079296",
            "longitude": "8.801694",
            "customer_id": str(customer.id),
            "scans": {"total": 1, "last_at": serializers.DateTimeField().to_representation(scan.scanned_at)},
            "url": f"/api/v1/passports/{device.id}",
        },
    }


def test_a_customer_sees_the_owner_section_only_for_a_device_kept_for_them(
    api, device, customer, operator, manufacturer
):
    someone_elses = register(operator, manufacturer, serial_number="SN-OTHER-1")
    client = api(customer)

    own = client.get(f"/api/v1/scan/{device.code}").json()
    other = client.get(f"/api/v1/scan/{someone_elses.code}").json()

    # a customer's view: the device, not the owner's scan statistics
    assert own["owner"] == {
        "passport_id": str(device.id),
        "serial_number": SERIAL,
        "current_location": "Hall 3, Bremen plant",
        "latitude": "53.079296",
        "longitude": "8.801694",
        "customer_id": str(customer.id),
        "scans": None,
        "url": f"/api/v1/passports/{device.id}",
    }
    assert "owner" not in other and other["code"] == someone_elses.code


def test_with_the_feature_switched_off_the_owner_sees_only_the_public_fields(api, device, operator, manufacturer):
    with tenant_scope(manufacturer.id):
        OrganizationFeature.objects.filter(organization=manufacturer, name="device_passports").update(is_enabled=False)

    response = api(operator).get(f"/api/v1/scan/{device.code}")

    assert response.json() == public_body(device)


def test_after_a_takeover_the_new_owner_sees_the_section_and_the_previous_one_does_not(
    api, device, operator, manufacturer, claimant_organization, claimant_admin
):
    with tenant_scope(claimant_organization.id, user_id=claimant_admin.id):
        takeover = services.takeover_request(
            actor=actor_of(claimant_admin, claimant_organization), code=device.code, serial_number=SERIAL
        )
    with tenant_scope(manufacturer.id, user_id=operator.id):
        services.takeover_decide(actor=actor_of(operator, manufacturer), takeover_id=takeover.id, approve=True)

    previous = api(operator).get(f"/api/v1/scan/{device.code}").json()
    current = api(claimant_admin).get(f"/api/v1/scan/{device.code}").json()

    assert "owner" not in previous
    assert current["owner"]["passport_id"] == str(device.id)
    assert current["steps"][0] == {"kind": "transferred", "label": "Ownership transferred", "date": str(date.today())}


def test_an_unknown_and_a_malformed_code_get_the_same_404_after_the_same_lookup(api, device):
    answers, lookups = {}, {}
    for name, code in {"unknown": "ACM-2612-MO-DE-000042-37", "malformed": "%3Cscript%3E"}.items():
        with CaptureQueriesContext(connection) as queries:
            answers[name] = api().get(f"/api/v1/scan/{code}")
        lookups[name] = [query["sql"] for query in queries if FUNCTION in query["sql"]]

    assert answers["unknown"].status_code == answers["malformed"].status_code == 404
    unknown, malformed = answers["unknown"].json(), answers["malformed"].json()
    assert unknown["error_code"] == malformed["error_code"] == "NOT_FOUND"
    assert unknown["message"] == malformed["message"] == "No device has this passport."
    assert len(lookups["unknown"]) == len(lookups["malformed"]) == 1


def test_a_code_typed_in_lower_case_with_spaces_is_found(api, device):
    typed = quote(device.code.lower().replace("-", " - ", 1))

    response = api().get(f"/api/v1/scan/{typed}")

    assert response.status_code == 200 and response.json()["code"] == device.code


def test_a_device_that_failed_qc_shows_as_manufactured_without_the_failed_step(
    api, operator, qc_inspector, manufacturer
):
    passport = register(operator, manufacturer, serial_number="SN-QC-1", manufactured_at=at("2026-04-01"))
    step(qc_inspector, manufacturer, passport, "qc_failed", "2026-04-02", note="Bearing noise")

    body = api().get(f"/api/v1/scan/{passport.code}").json()

    assert (body["status"], body["status_label"]) == ("manufactured", "Manufactured")
    assert body["steps"] == [{"kind": "manufactured", "label": "Manufactured", "date": "2026-04-01"}]
    assert body["warranty"] == {"state": "none", "until": None}


def test_only_the_last_public_steps_are_listed(api, device, settings):
    settings.PASSPORTS = {**settings.PASSPORTS, "PUBLIC_STEPS": 2}

    body = api().get(f"/api/v1/scan/{device.code}").json()

    assert [entry["kind"] for entry in body["steps"]] == ["installed", "shipped"]


def test_an_expired_warranty_says_so(api, operator, manufacturer):
    passport = register(operator, manufacturer, serial_number="SN-OLD-1", warranty_until=date(2020, 1, 31))

    body = api().get(f"/api/v1/scan/{passport.code}").json()

    assert body["warranty"] == {"state": "expired", "until": "2020-01-31"}


# --- Scans counted ---------------------------------------------------------------------------------


SCAN_COLUMNS = {
    "id",
    "passport",
    "organization",
    "scanned_at",
    "channel",
    "country",
    "latitude",
    "longitude",
    "signed_in",
}


def test_a_scan_is_one_row_with_a_coarse_place_and_no_address(api, device, manufacturer, settings):
    settings.PASSPORTS = {**settings.PASSPORTS, "SCAN_COUNTRY_HEADER": "CF-IPCountry"}
    client = api()

    response = client.get(
        f"/api/v1/scan/{device.code}?lat=53.551086&lon=9.993682",
        REMOTE_ADDR="203.0.113.77",
        HTTP_CF_IPCOUNTRY="de",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
        HTTP_USER_AGENT="Camera/1.0",
    )

    assert response.status_code == 200
    assert {field.name for field in PassportScan._meta.get_fields()} == SCAN_COLUMNS
    (scan,) = scans(manufacturer)
    assert (scan.passport_id, scan.organization_id, scan.channel, scan.signed_in) == (
        device.id,
        manufacturer.id,
        "api",
        False,
    )
    assert scan.country == "DE"
    assert (scan.latitude, scan.longitude) == (Decimal("53.6"), Decimal("10.0"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(s)::text FROM passports_passportscan s")
        stored = cursor.fetchall()
    assert stored == [] or all("203.0.113" not in row[0] and "198.51.100" not in row[0] for row in stored)


def test_the_country_comes_only_from_the_configured_header_and_only_when_it_is_a_country(
    api, device, manufacturer, settings
):
    client = api()
    client.get(f"/api/v1/scan/{device.code}", HTTP_CF_IPCOUNTRY="DE")  # no header configured
    settings.PASSPORTS = {**settings.PASSPORTS, "SCAN_COUNTRY_HEADER": "CF-IPCountry"}
    client.get(f"/api/v1/scan/{device.code}", HTTP_CF_IPCOUNTRY="XX")  # Cloudflare's "unknown"
    client.get(f"/api/v1/scan/{device.code}", HTTP_X_COUNTRY="PL")  # another header
    client.get(f"/api/v1/scan/{device.code}", HTTP_CF_IPCOUNTRY="FR")

    assert [scan.country for scan in scans(manufacturer)] == ["", "", "", "FR"]


def test_coordinates_need_both_values_on_the_globe(api, device, manufacturer):
    client = api()

    one = client.get(f"/api/v1/scan/{device.code}?lat=53.5")
    off_the_globe = client.get(f"/api/v1/scan/{device.code}?lat=95&lon=10")
    page = Client().get(f"/p/{device.code}?lat=95&lon=10")  # the page ignores them instead

    assert one.status_code == off_the_globe.status_code == 400
    assert page.status_code == 200
    ((latitude, longitude),) = [(scan.latitude, scan.longitude) for scan in scans(manufacturer)]
    assert latitude is None and longitude is None


def test_coordinates_the_database_could_not_store_are_dropped_not_a_server_error(device, manufacturer):
    response = Client().get(f"/p/{device.code}?lat=1E-999999999&lon=9.9")

    assert response.status_code == 200
    assert [(scan.latitude, scan.longitude) for scan in scans(manufacturer)] == [(Decimal("0.0"), Decimal("9.9"))]


def test_over_the_rate_limit_the_scan_answers_429_and_counts_nothing(api, device, manufacturer, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "passport_scan_ip": "2/min"}
    client = api()

    answers = [client.get(f"/api/v1/scan/{device.code}", REMOTE_ADDR="127.0.0.71") for _ in range(3)]
    page = Client(REMOTE_ADDR="127.0.0.71").get(f"/p/{device.code}")
    elsewhere = client.get(f"/api/v1/scan/{device.code}", REMOTE_ADDR="127.0.0.72")

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[-1].json()["error_code"] == "RATE_LIMIT_EXCEEDED" and int(answers[-1]["Retry-After"]) >= 1
    assert page.status_code == 429 and int(page["Retry-After"]) >= 1
    assert elsewhere.status_code == 200
    assert len(scans(manufacturer)) == 3


# --- The page ------------------------------------------------------------------------------------


def _without_tokens(page: bytes) -> bytes:
    """The page without what changes per response (the CSP nonce, the CSRF token)."""
    return re.sub(rb'(nonce|value)="[^"]*"', b"", page)


def test_the_page_shows_name_status_warranty_steps_and_links_the_service_form(device):
    response = Client().get(f"/p/{device.code}")

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex" and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert '<meta name="viewport"' in page
    assert "Servo motor 7.5 kW" in page and "Nordwind Motoren" in page and "SM-750" in page
    assert "Installed" in page and "Under warranty until 3 Mar 2031" in page
    assert page.index("3 Mar 2026") < page.index("1 Feb 2026") < page.index("12 Jan 2026")
    assert 'href="/p/' + device.code + '/service-request"' in page
    # A scan renders no form: no CSRF token, no cookie set for an anonymous visitor.
    assert "csrfmiddlewaretoken" not in page and not response.cookies
    assert "<script" not in page and "http" not in page.split("<body>", 1)[1]


def test_the_service_form_is_its_own_page_and_counts_no_scan(device, manufacturer):
    from apps.passports.models import PassportScan

    response = Client().get(f"/p/{device.code}/service-request")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'action="/p/' + device.code + '/service-request"' in page and 'name="csrfmiddlewaretoken"' in page
    assert "Servo motor 7.5 kW" in page
    with tenant_scope(manufacturer.id):
        assert not PassportScan.objects.filter(passport_id=device.id).exists()


def test_the_page_shows_no_serial_place_owner_customer_or_notes(device, customer):
    page = Client().get(f"/p/{device.code}").content.decode()

    for secret in (
        SERIAL,
        quote(SERIAL, safe=""),
        "Hall 3",
        "Bremen",
        "Hamburg",
        "Lager",
        "Received",
        "53.07",
        "8.80",
        "Acme Drives GmbH",
        customer.email,
        "Petrov",
        "Vibration",
        str(device.id),
    ):
        assert secret not in page, secret


def test_an_anonymous_page_view_is_one_database_call_and_writes_no_session(device):
    with CaptureQueriesContext(connection) as baseline:  # any view: the request's own scope
        Client().get("/no-such-page")
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(f"/p/{device.code}")

    assert response.status_code == 200
    statements = [query["sql"] for query in queries]
    # (the test's transaction turns the request's BEGIN and COMMIT into named savepoints)
    added = [sql for sql in statements if "SAVEPOINT" not in sql and sql not in [q["sql"] for q in baseline]]
    assert len(statements) == len(baseline) + 1, statements
    assert len(added) == 1 and FUNCTION in added[0]
    assert django_settings.SESSION_COOKIE_NAME not in response.cookies


def test_an_anonymous_api_scan_is_one_database_call_too(api, device):
    with CaptureQueriesContext(connection) as baseline:
        api().get("/api/v1/no-such-endpoint")
    with CaptureQueriesContext(connection) as queries:
        response = api().get(f"/api/v1/scan/{device.code}")

    assert response.status_code == 200
    assert len(queries) == len(baseline) + 1
    assert [query["sql"] for query in queries if FUNCTION in query["sql"]] != []


def test_the_page_of_an_unknown_or_malformed_code_is_the_same_404(device):
    unknown = Client().get("/p/ACM-2612-MO-DE-000042-37")
    malformed = Client().get("/p/%3Cscript%3E")

    assert unknown.status_code == malformed.status_code == 404
    assert _without_tokens(unknown.content) == _without_tokens(malformed.content)
    assert b"No device has this passport." in unknown.content and unknown["X-Robots-Tag"] == "noindex"


def test_a_head_request_is_answered_but_not_counted(device, manufacturer):
    response = Client().head(f"/p/{device.code}")

    assert response.status_code == 200
    assert scans(manufacturer) == []


# --- The GS1 Digital Link ---------------------------------------------------------------------------


def test_the_labels_qr_uri_resolves_to_the_same_page_as_the_code(device, manufacturer):
    uri = qr.passport_uri_of(device)
    path = uri.removeprefix(django_settings.PASSPORTS["PUBLIC_BASE_URL"])
    assert path == f"/01/0{GTIN_13}/21/SN%2F2026%2F0042"

    by_link = Client().get(path)
    by_code = Client().get(f"/p/{device.code}")

    assert by_link.status_code == by_code.status_code == 200
    assert _without_tokens(by_link.content) == _without_tokens(by_code.content)
    assert [scan.channel for scan in scans(manufacturer)] == ["digital_link", "code"]


def test_a_digital_link_with_the_short_gtin_finds_the_device_too(device):
    response = Client().get(f"/01/{GTIN_13}/21/{quote(SERIAL, safe='')}")

    assert response.status_code == 200 and b"Servo motor 7.5 kW" in response.content


def test_a_digital_link_with_another_serial_or_a_bad_gtin_is_not_found(device):
    assert Client().get(f"/01/0{GTIN_13}/21/SN-NOT-OURS").status_code == 404
    assert Client().get(f"/01/12345/21/{quote(SERIAL, safe='')}").status_code == 404
    assert Client().get(f"/01/0{GTIN_13}/21/SN%00").status_code == 404  # a NUL: looked up as nothing
