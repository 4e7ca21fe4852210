"""The passports themselves through the API: registering a device (its code, first step and QR
link), reading and filtering the list, a customer's own devices, correcting a record, the
roles that may not, the feature switch, the code check, and constant list queries."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.context import tenant_scope
from apps.passports import codes
from apps.passports.models import DevicePassport
from tests.factories import OrganizationFactory, member
from tests.passports.conftest import register

pytestmark = pytest.mark.django_db

URL = "/api/v1/passports"
BODY = {
    "device_name": "Servo motor 7.5 kW",
    "manufacturer": "Acme Drives",
    "model": "SM-750",
    "serial_number": "SN-100",
    "product_type": "MO",
    "origin_country": "DE",
}


def _count(organization) -> int:
    with tenant_scope(organization.id):
        return DevicePassport.objects.count()


def test_an_operator_registers_a_device_with_its_code_first_step_and_qr_link(api, operator, manufacturer):
    response = api(operator).post(URL, {**BODY, "current_location": "Plant 1"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert codes.code_check(body["code"]).valid
    assert body["code_parts"] == {
        "company": body["company_code"],
        "year_month": body["year_month"],
        "product_type": "MO",
        "origin": "DE",
        "sequence": f"{body['sequence']:06d}",
        "checksum": body["checksum"],
    }
    assert body["code"] == "-".join(body["code_parts"].values())
    assert body["qr_uri"].endswith(f"/p/{body['code']}")
    assert (body["status"], body["current_location"], body["created_by_id"]) == (
        "manufactured",
        "Plant 1",
        str(operator.id),
    )
    assert [step["kind"] for step in body["last_events"]] == ["manufactured"]
    assert body["scans"] == {"total": 0, "last_at": None} and body["documents"] == []
    assert api(operator).get(f"{URL}/{body['id']}").json() == body


def test_a_device_with_a_gtin_gets_a_gs1_digital_link(api, operator):
    response = api(operator).post(URL, {**BODY, "gtin": "4006381333931"}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["gtin"] == "04006381333931"
    assert response.json()["qr_uri"].endswith("/01/04006381333931/21/SN-100")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"device_name": ""}, "device_name"),
        ({"product_type": "ZZ"}, "product_type"),
        ({"origin_country": "XX"}, "origin_country"),
        ({"gtin": "4006381333932"}, "gtin"),
        ({"latitude": "54.1"}, "longitude"),
        ({"serial_number": "SN 100 !"}, "serial_number"),
        ({"manufactured_at": "2999-01-01T00:00:00Z"}, "manufactured_at"),
        ({"device_name": 42}, "device_name"),
    ],
)
def test_an_invalid_device_is_refused_with_the_field_named_and_nothing_registered(
    api, operator, manufacturer, change, field
):
    response = api(operator).post(URL, {**BODY, **change}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] in {"VALIDATION_FIELD_INVALID", "VALIDATION_FIELD_REQUIRED"}
    assert field in body["details"]
    assert _count(manufacturer) == 0


def test_a_device_that_already_has_a_passport_is_refused(api, operator, manufacturer, passport):
    response = api(operator).post(
        URL, {**BODY, "manufacturer": "ACME DRIVES", "serial_number": passport.serial_number}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert "takeover" in response.json()["message"]
    assert _count(manufacturer) == 1


def test_a_retried_registration_with_the_same_key_registers_one_device(api, operator, manufacturer):
    client = api(operator)
    first = client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="register-1")
    again = client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="register-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["code"] == first.json()["code"] and again.headers["Idempotent-Replayed"] == "true"
    assert _count(manufacturer) == 1


@pytest.mark.parametrize("role", sorted(["qc_inspector", "engineer", "customer"]))
def test_roles_that_do_not_register_devices_are_refused(api, request, manufacturer, role):
    user = request.getfixturevalue(role)

    response = api(user).post(URL, BODY, format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert _count(manufacturer) == 0


def test_an_organization_admin_registers_devices_too(api, owner_admin):
    assert api(owner_admin).post(URL, BODY, format="json").status_code == 201


def test_without_the_feature_every_passport_endpoint_answers_feature_disabled(api, passport):
    organization = OrganizationFactory()  # device_passports is off by default
    client = api(member(organization))
    some = uuid.uuid4()
    calls = [
        ("get", URL, None),
        ("post", URL, BODY),
        ("get", f"{URL}/{passport.id}", None),
        ("patch", f"{URL}/{passport.id}", {"device_name": "X"}),
        ("patch", f"{URL}/{passport.id}/status", {"status": "qc_passed"}),
        ("get", f"{URL}/{passport.id}/events", None),
        ("post", f"{URL}/{passport.id}/events", {"kind": "qc_passed"}),
        ("post", f"{URL}/{passport.id}/attachments", {}),
        ("post", f"{URL}/{passport.id}/service-requests", {"description": "Hums"}),
        ("get", f"{URL}/takeovers", None),
        ("post", f"{URL}/takeovers", {"code": passport.code, "serial_number": passport.serial_number}),
        ("get", f"{URL}/takeovers/{some}", None),
        ("post", f"{URL}/takeovers/{some}/approve", {}),
        ("post", f"{URL}/takeovers/{some}/reject", {"reason": "No"}),
        ("post", f"{URL}/takeovers/{some}/cancel", {}),
        ("get", f"{URL}/service-requests", None),
        ("get", f"{URL}/service-requests/{some}", None),
        ("patch", f"{URL}/service-requests/{some}/status", {"status": "closed"}),
    ]

    answers = {
        f"{method.upper()} {path}": getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
        for method, path, body in calls
    }

    refused = {name: (answer.status_code, answer.json()["error_code"]) for name, answer in answers.items()}
    assert refused == dict.fromkeys(refused, (403, "FEATURE_DISABLED"))
    assert _count(organization) == 0


def test_the_list_is_newest_first_and_filters_by_status_type_customer_and_text(api, operator, customer, manufacturer):
    motor = register(operator, manufacturer, serial_number="M-1", device_name="Main drive")
    pump = register(operator, manufacturer, serial_number="P-1", product_type="PU", device_name="Cooling pump")
    kept = register(operator, manufacturer, serial_number="K-1", customer_id=customer.id, device_name="Spare")
    client = api(operator)

    def ids(query=""):
        response = client.get(f"{URL}{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["data"]]

    assert ids() == [str(kept.id), str(pump.id), str(motor.id)]
    assert ids("?product_type=PU") == [str(pump.id)]
    assert ids(f"?customer_id={customer.id}") == [str(kept.id)]
    assert ids("?q=pump") == [str(pump.id)]
    assert ids("?q=m-1") == [str(motor.id)]
    assert ids(f"?q={motor.code.lower()}") == [str(motor.id)]
    assert ids("?status=installed") == []
    assert len(ids("?status=manufactured")) == 3


@pytest.mark.parametrize("query", sorted(["?status=flying", "?product_type=", "?customer_id=42", "?limit=0"]))
def test_an_invalid_filter_is_a_400(api, operator, query):
    response = api(operator).get(f"{URL}{query}")

    assert response.status_code == 400
    assert response.json()["error_code"] in {"VALIDATION_FIELD_INVALID", "VALIDATION_FIELD_REQUIRED"}


def test_a_customer_sees_only_the_devices_kept_for_them(api, operator, customer, manufacturer):
    theirs = register(operator, manufacturer, serial_number="C-1", customer_id=customer.id)
    other = register(operator, manufacturer, serial_number="C-2")
    client = api(customer)

    listed = client.get(URL).json()["data"]

    assert [row["id"] for row in listed] == [str(theirs.id)]
    assert client.get(f"{URL}/{theirs.id}").status_code == 200
    assert client.get(f"{URL}/{other.id}").status_code == 404
    assert client.get(f"{URL}/{other.id}/events").status_code == 404


def test_an_operator_corrects_a_record_and_the_code_stays(api, operator, passport):
    response = api(operator).patch(
        f"{URL}/{passport.id}",
        {"device_name": "Servo motor 7.5 kW (rewound)", "warranty_until": "2030-01-31", "gtin": "4006381333931"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["device_name"], body["warranty_until"], body["gtin"]) == (
        "Servo motor 7.5 kW (rewound)",
        "2030-01-31",
        "04006381333931",
    )
    assert body["code"] == passport.code
    assert body["qr_uri"].endswith("/01/04006381333931/21/SN-000001")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gtin": "123"}, "gtin"),
        ({"device_name": ""}, "device_name"),
        ({"latitude": "91", "longitude": "10"}, "latitude"),
        ({"customer_id": "00000000-0000-0000-0000-000000000001"}, "customer_id"),
        ({}, "non_field_errors"),
    ],
)
def test_an_invalid_correction_changes_nothing(api, operator, passport, change, field):
    client = api(operator)
    before = client.get(f"{URL}/{passport.id}").json()

    response = client.patch(f"{URL}/{passport.id}", change, format="json")

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert client.get(f"{URL}/{passport.id}").json() == before


@pytest.mark.parametrize("role", sorted(["qc_inspector", "engineer", "customer"]))
def test_roles_that_do_not_manage_devices_cannot_correct_them(api, request, passport, role):
    response = api(request.getfixturevalue(role)).patch(f"{URL}/{passport.id}", {"device_name": "X"}, format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_the_list_runs_the_same_queries_for_3_or_15_devices(api, operator, manufacturer):
    client = api(operator)
    for number in range(3):
        register(operator, manufacturer, serial_number=f"Q-{number}")
    client.get(URL)  # warms the per-organization feature cache
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(URL).json()["data"]) == 3
    for number in range(3, 15):
        register(operator, manufacturer, serial_number=f"Q-{number}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{URL}?limit=50").json()["data"]) == 15

    assert len(many.captured_queries) == len(few.captured_queries)


# --- Code check -----------------------------------------------------------------------------------


def test_anyone_checks_a_code_and_a_valid_one_is_read_part_by_part(api, passport):
    response = api().post(f"{URL}/codes/validate", {"code": passport.code.lower()}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["valid"], body["errors"]) == (passport.code, True, {})
    assert body["parts"]["sequence"] == f"{passport.sequence:06d}" and body["parts"]["origin"] == "DE"


def test_a_code_with_two_characters_swapped_is_invalid_by_its_check_digits(api, passport):
    code = passport.code
    swapped = code[:-5] + code[-4] + code[-5] + code[-3:]  # the sequence's last two digits, 01 -> 10
    assert swapped != code

    body = api().post(f"{URL}/codes/validate", {"code": swapped}, format="json").json()

    assert body["valid"] is False and list(body["errors"]) == ["checksum"]


def test_the_code_check_names_the_wrong_part(api):
    body = api().post(f"{URL}/codes/validate", {"code": "AC1-2613-MO-DE-000001-00"}, format="json").json()

    assert body["valid"] is False
    assert set(body["errors"]) == {"company", "year_month"}


@pytest.mark.parametrize("payload", [{}, {"code": 42}, {"code": "x" * 65}])
def test_a_malformed_code_check_request_is_a_400(api, payload):
    response = api().post(f"{URL}/codes/validate", payload, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["details"]
