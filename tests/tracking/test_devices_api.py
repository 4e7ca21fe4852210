"""Devices through the API: a key shown once and stored as a digest, revoked at once,
assigned to a shipment of the organization's for windows that never overlap."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.context import system_scope
from apps.core.models import AuditLog
from apps.tenancy.roles import Role
from apps.tracking.models import Device
from tests.tracking.ingest_support import (
    DEVICES,
    ago,
    assign,
    device_client,
    party,
    ping,
    register_device,
    shipment_between,
    stored_events,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipper():
    return party(Role.SHIPPER)


@pytest.fixture
def carrier():
    return party(Role.CARRIER)


@pytest.fixture
def third():
    return party(Role.CARRIER)


@pytest.fixture
def shipment(shipper, carrier):
    return shipment_between(shipper, carrier)


def test_a_registered_device_shows_its_key_once_and_keeps_only_its_digest(api, carrier):
    body, key = register_device(api, carrier)

    detail = api(carrier.staff).get(f"{DEVICES}/{body['id']}").json()

    assert key.startswith("mfd_") and len(key) > 40
    assert body["key_prefix"] == key[:12] == detail["key_prefix"]
    assert "key" not in detail
    with system_scope(reason="test", audit=False):
        device = Device.objects.get(pk=body["id"])
    assert device.key_digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {device.key_prefix, device.key_digest}


def test_revoking_a_device_is_audited_and_its_key_stops_working(api, carrier, shipment):
    body, key = register_device(api, carrier)
    assign(api, carrier, body["id"], shipment, valid_from=ago(hours=1))

    response = api(carrier.staff).post(f"{DEVICES}/{body['id']}/revoke")

    assert response.status_code == 200 and response.json()["is_revoked"] is True
    refused = device_client(api, key).post("/api/v1/tracking/events", ping(ago(minutes=1)), format="json")
    assert refused.status_code == 401
    with system_scope(reason="test", audit=False):
        assert AuditLog.objects.filter(action="tracking.device_revoked", resource_id=body["id"]).count() == 1


def test_an_assignment_may_name_the_order(api, carrier, shipment):
    body, _ = register_device(api, carrier)

    response = api(carrier.staff).post(
        f"{DEVICES}/{body['id']}/assignments", {"order_id": str(shipment.order_id)}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["shipment_id"] == str(shipment.id)
    assert response.json()["order_id"] == str(shipment.order_id)


def test_overlapping_assignments_of_one_device_are_refused(api, shipper, carrier, shipment):
    other = shipment_between(shipper, carrier)
    body, _ = register_device(api, carrier)
    assert (
        assign(api, carrier, body["id"], shipment, valid_from=ago(hours=3), valid_until=ago(hours=1)).status_code == 201
    )

    overlapping = assign(api, carrier, body["id"], other, valid_from=ago(hours=2))
    after = assign(api, carrier, body["id"], other, valid_from=ago(hours=1))

    assert overlapping.status_code == 422
    assert after.status_code == 201


def test_a_device_is_assigned_only_to_a_shipment_of_its_organization(api, carrier, third, shipment):
    body, _ = register_device(api, third)

    response = assign(api, third, body["id"], shipment)

    assert response.status_code == 404


def test_an_ended_assignment_takes_no_later_pings(api, carrier, shipment):
    body, key = register_device(api, carrier)
    assignment = assign(api, carrier, body["id"], shipment, valid_from=ago(hours=1)).json()

    ended = api(carrier.staff).post(f"{DEVICES}/{body['id']}/assignments/{assignment['id']}/end")
    response = device_client(api, key).post(
        "/api/v1/tracking/events", {"events": [ping(ago(minutes=30)), ping(ago(seconds=-1))]}, format="json"
    )

    assert ended.status_code == 200 and ended.json()["valid_until"] is not None
    assert response.json()["stored"] == 1 and [r["index"] for r in response.json()["rejected"]] == [1]
    assert len(stored_events(shipment)) == 1


def test_a_third_organization_cannot_see_or_revoke_a_device(api, carrier, third):
    body, key = register_device(api, carrier)

    assert api(third.admin).get(f"{DEVICES}/{body['id']}").status_code == 404
    assert api(third.admin).post(f"{DEVICES}/{body['id']}/revoke").status_code == 404
    assert api(third.admin).get(DEVICES).json()["meta"]["total"] == 0
    assert (
        device_client(api, key).post("/api/v1/tracking/events", ping(ago(minutes=1)), format="json").status_code != 401
    )


def test_a_role_that_only_records_events_may_not_register_devices(api, carrier):
    staff = party(Role.WAREHOUSE_STAFF).staff

    response = api(staff).post(DEVICES, {"name": "Scanner"}, format="json")

    assert response.status_code == 403


def test_the_device_list_runs_the_same_queries_for_one_device_or_three(api, carrier):
    client = api(carrier.staff)
    register_device(api, carrier, "A")
    client.get(DEVICES)
    with CaptureQueriesContext(connection) as one:
        assert client.get(DEVICES).json()["meta"]["total"] == 1
    register_device(api, carrier, "B")
    register_device(api, carrier, "C")

    with CaptureQueriesContext(connection) as three:
        assert client.get(DEVICES).json()["meta"]["total"] == 3

    assert len(one.captured_queries) == len(three.captured_queries)


def test_the_assignment_list_runs_the_same_queries_for_one_or_three(api, shipper, carrier):
    body, _ = register_device(api, carrier)
    url = f"{DEVICES}/{body['id']}/assignments"
    client = api(carrier.staff)
    assign(
        api, carrier, body["id"], shipment_between(shipper, carrier), valid_from=ago(hours=6), valid_until=ago(hours=5)
    )
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).json()["meta"]["total"] == 1
    for hours in (4, 2):
        window = {"valid_from": ago(hours=hours), "valid_until": ago(hours=hours - 1)}
        assign(api, carrier, body["id"], shipment_between(shipper, carrier), **window)

    with CaptureQueriesContext(connection) as three:
        assert client.get(url).json()["meta"]["total"] == 3

    assert len(one.captured_queries) == len(three.captured_queries)
