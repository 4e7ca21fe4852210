"""POST /api/v1/tracking/events with a device key: a batch stored once, in time order,
implausible jumps flagged, bad rows reported row by row, nothing taken from a device that has
no business with the shipment."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.tenancy.roles import Role
from apps.tracking.models import DeviceAssignment, TrackedShipment
from tests.tracking.ingest_support import (
    EVENTS,
    ago,
    assign,
    device_client,
    party,
    ping,
    register_device,
    reread,
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


@pytest.fixture
def device(api, carrier, shipment):
    """The carrier's device, on the shipment since two hours ago: (its client, its id)."""
    body, key = register_device(api, carrier)
    assert assign(api, carrier, body["id"], shipment, valid_from=ago(hours=2)).status_code == 201
    return device_client(api, key), body["id"]


def post(client, rows):
    return client.post(EVENTS, {"events": rows}, format="json")


def test_a_devices_batch_is_stored_with_the_shipments_parties_and_moves_its_position(device, shipment, shipper):
    client, device_id = device
    rows = [ping(ago(minutes=30), 53.55, 9.99), ping(ago(minutes=20), 53.50, 10.05), ping(ago(minutes=10), 53.45, 10.1)]

    response = post(client, rows)

    assert response.status_code == 201, response.json()
    assert response.json() == {"stored": 3, "duplicates": 0, "rejected": []}
    events = stored_events(shipment, organization_id=shipper.org.id)  # the client reads them too
    assert [str(e.latitude) for e in events] == ["53.550000", "53.500000", "53.450000"]
    assert {(e.source, str(e.device_id), e.supplier_organization_id) for e in events} == {
        ("device", device_id, shipment.supplier_organization_id)
    }
    shipment = reread(shipment)
    assert (str(shipment.last_latitude), str(shipment.last_longitude)) == ("53.450000", "10.100000")
    assert shipment.last_position_at == events[-1].occurred_at == shipment.last_event_at


def test_one_event_may_be_sent_alone(device, shipment):
    client, _ = device

    response = client.post(EVENTS, ping(ago(minutes=5)), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["stored"] == 1
    assert len(stored_events(shipment)) == 1


def test_a_ping_sent_twice_is_stored_once(device, shipment):
    client, _ = device
    rows = [ping(ago(minutes=30)), ping(ago(minutes=20))]
    assert post(client, rows).json()["stored"] == 2

    again = post(client, [*rows, rows[0]])

    assert again.status_code == 201
    assert again.json() == {"stored": 0, "duplicates": 3, "rejected": []}
    assert len(stored_events(shipment)) == 2


def test_a_late_ping_is_stored_in_time_order_and_leaves_the_newer_position(device, shipment):
    client, _ = device
    newer, older = ago(minutes=5), ago(minutes=50)
    post(client, [ping(newer, 53.40, 10.20)])

    response = post(client, [ping(older, 53.55, 9.99)])

    assert response.json()["stored"] == 1
    assert [e.occurred_at for e in stored_events(shipment)] == sorted([newer, older])
    shipment = reread(shipment)
    assert str(shipment.last_latitude) == "53.400000" and shipment.last_position_at == newer


def test_an_implausible_jump_is_stored_flagged_and_never_the_position(device, shipment):
    client, _ = device
    rows = [
        ping(ago(minutes=30), 53.55, 9.99),
        ping(ago(minutes=29), 48.14, 11.58),  # Munich a minute later: 600 km in 60 s
        ping(ago(minutes=20), 53.50, 10.05),  # back on the road, from the last plausible ping
    ]

    response = post(client, rows)

    assert response.json()["stored"] == 3
    assert [e.is_implausible for e in stored_events(shipment)] == [False, True, False]
    assert str(reread(shipment).last_latitude) == "53.500000"


def test_a_jump_from_the_shipments_last_position_is_flagged_in_the_next_batch(device, shipment):
    client, _ = device
    post(client, [ping(ago(minutes=30), 53.55, 9.99)])

    post(client, [ping(ago(minutes=29), 40.41, -3.70)])  # Madrid

    assert [e.is_implausible for e in stored_events(shipment)] == [False, True]
    assert str(reread(shipment).last_latitude) == "53.550000"


def test_bad_rows_are_reported_one_by_one_and_the_good_ones_kept(device, shipment):
    client, _ = device
    rows = [
        ping(ago(minutes=40)),
        ping(ago(minutes=30), latitude="91"),  # out of range
        ping(ago(minutes=20), longitude=-180.5),
        {**ping(ago(minutes=15)), "altitude": 12},  # unknown field
        "not an object",
        ping(ago(minutes=10), heading=360, speed_kmh="fast"),
        {"occurred_at": ago(minutes=9).isoformat()},  # a location update without coordinates
        ping(ago(minutes=5)),
    ]

    response = post(client, rows)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["stored"] == 2
    rejected = {row["index"]: row["errors"] for row in body["rejected"]}
    assert sorted(rejected) == [1, 2, 3, 4, 5, 6]
    assert list(rejected[1]) == ["latitude"]
    assert list(rejected[2]) == ["longitude"]
    assert rejected[3] == {"altitude": ["Unknown field."]}
    assert list(rejected[4]) == ["non_field_errors"]
    assert sorted(rejected[5]) == ["heading", "speed_kmh"]
    assert sorted(rejected[6]) == ["latitude", "longitude"]
    assert len(stored_events(shipment)) == 2


@pytest.mark.parametrize(
    ("occurred_at", "why"),
    [
        ("in an hour", "Too far in the future."),
        ("forty days ago", "too old"),
        ("2026-12-01T10:00:00", "UTC offset"),
        ("yesterday", "ISO 8601"),
    ],
)
def test_a_time_far_in_the_future_too_old_or_malformed_is_refused(device, shipment, occurred_at, why):
    client, _ = device
    value = {"in an hour": ago(hours=-1).isoformat(), "forty days ago": ago(days=40).isoformat()}.get(
        occurred_at, occurred_at
    )

    response = post(client, [{"occurred_at": value, "latitude": 53.5, "longitude": 10}])

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    [row] = response.json()["details"]["rejected"]
    assert why in row["errors"]["occurred_at"][0]
    assert stored_events(shipment) == []


def test_a_batch_over_the_limit_is_refused_whole(device, shipment):
    client, _ = device
    with override_settings(TRACKING={**__import__("django.conf").conf.settings.TRACKING, "MAX_BATCH": 3}):
        response = post(client, [ping(ago(minutes=m)) for m in range(1, 5)])

    assert response.status_code == 400
    assert "events" in response.json()["details"]
    assert stored_events(shipment) == []


def test_events_that_are_not_a_list_are_refused(device, shipment):
    client, _ = device

    response = client.post(EVENTS, {"events": {"occurred_at": ago(minutes=1).isoformat()}}, format="json")

    assert response.status_code == 400
    assert stored_events(shipment) == []


def test_a_ping_outside_every_assignment_window_is_refused(api, carrier, shipment):
    body, key = register_device(api, carrier)
    assign(api, carrier, body["id"], shipment, valid_from=ago(minutes=30))
    client = device_client(api, key)

    response = post(client, [ping(ago(minutes=40)), ping(ago(minutes=20))])

    assert response.json()["stored"] == 1
    assert response.json()["rejected"] == [
        {"index": 0, "errors": {"occurred_at": ["The device is not assigned to a shipment at this time."]}}
    ]


def test_a_device_of_one_organization_cannot_post_to_anothers_shipment(api, shipper, carrier, third, shipment):
    # The third organization's device, forced onto the carrier's shipment behind the API's
    # back: the ingest still runs as the third organization, which sees no such shipment.
    body, key = register_device(api, third)
    with system_scope(reason="test", audit=False):
        DeviceAssignment.objects.create(
            organization_id=third.org.id, device_id=body["id"], shipment=shipment, valid_from=ago(hours=1)
        )

    response = post(device_client(api, key), [ping(ago(minutes=5))])

    assert response.status_code == 400
    assert stored_events(shipment) == []


def test_a_device_not_assigned_to_the_shipment_cannot_post_to_it(api, shipper, carrier, shipment):
    other = shipment_between(shipper, carrier)
    body, key = register_device(api, carrier)
    assign(api, carrier, body["id"], other, valid_from=ago(hours=1))

    post(device_client(api, key), [ping(ago(minutes=5))])

    assert stored_events(shipment) == []
    assert len(stored_events(other)) == 1


def test_a_revoked_key_is_refused_at_once(api, carrier, device):
    client, device_id = device
    assert api(carrier.staff).post(f"/api/v1/tracking/devices/{device_id}/revoke").status_code == 200

    response = post(client, [ping(ago(minutes=1))])

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"


def test_an_unknown_key_is_refused(api):
    response = post(device_client(api, "mfd_" + "x" * 43), [ping(ago(minutes=1))])

    assert response.status_code == 401


def test_a_device_key_opens_no_other_endpoint(api, device):
    client, device_id = device

    assert client.get("/api/v1/tracking/devices").status_code == 401
    assert client.get(f"/api/v1/tracking/devices/{device_id}").status_code == 401
    assert client.get("/api/v1/orders").status_code == 401


def test_a_device_ping_notes_when_the_device_was_last_seen(api, carrier, device):
    client, device_id = device
    post(client, [ping(ago(minutes=1))])

    detail = api(carrier.staff).get(f"/api/v1/tracking/devices/{device_id}").json()

    assert detail["last_seen_at"] is not None


def test_a_milestone_is_published_through_the_outbox(device, shipment):
    client, _ = device

    post(
        client,
        [
            {
                "event_type": "milestone",
                "occurred_at": ago(minutes=3).isoformat(),
                "metadata": {"milestone": "picked_up"},
            }
        ],
    )

    with system_scope(reason="test", audit=False):
        event = OutboxEvent.objects.get(event_type="tracking.milestone")
    assert event.payload["milestone"] == "picked_up"
    assert event.payload["subject_id"] == str(shipment.order_id)


def test_a_shipment_no_longer_tracked_takes_no_events(api, shipper, carrier):
    ended = shipment_between(shipper, carrier, is_active=False)

    response = api(carrier.staff).post(EVENTS, {"order_id": str(ended.order_id), **ping(ago(minutes=1))}, format="json")

    assert response.status_code == 422
    assert stored_events(ended) == []


# --- With a user's token ------------------------------------------------------------------------


def test_a_member_records_events_of_an_order_it_is_party_of(api, shipper, carrier, shipment):
    rows = [ping(ago(minutes=20)), {"event_type": "warehouse_scan", "occurred_at": ago(minutes=10).isoformat()}]

    response = api(carrier.staff).post(EVENTS, {"order_id": str(shipment.order_id), "events": rows}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["stored"] == 2
    events = stored_events(shipment)
    assert {(e.source, e.created_by_id) for e in events} == {("manual", carrier.staff.id)}


def test_a_third_organization_can_neither_ingest_nor_read(api, third, shipment):
    response = api(third.admin).post(
        EVENTS, {"order_id": str(shipment.order_id), **ping(ago(minutes=1))}, format="json"
    )

    assert response.status_code == 404
    assert stored_events(shipment) == []
    assert stored_events(shipment, organization_id=third.org.id) == []


def test_a_role_without_tracking_create_may_not_ingest(api, shipper, shipment):
    response = api(shipper.staff).post(
        EVENTS, {"order_id": str(shipment.order_id), **ping(ago(minutes=1))}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_the_events_are_written_under_row_level_security(third, shipment):
    # The service itself, as the third organization: the shipment is not found, nothing stored.
    from apps.core.errors import NotFound
    from apps.tenancy.roles import Actor
    from apps.tracking.services.ingest import events_record

    with pytest.raises(NotFound), tenant_scope(third.org.id):
        events_record(shipment=shipment, rows=[ping(ago(minutes=1))], source="manual", actor=Actor(user_id=None))

    assert stored_events(shipment) == []


# --- A driver's location --------------------------------------------------------------------------


def test_the_carriers_driver_reports_a_location(api, carrier, shipment):
    url = f"/api/v1/tracking/orders/{shipment.order_id}/location"

    response = api(carrier.staff).post(url, ping(ago(seconds=10), 52.52, 13.40, speed_kmh=62.5), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["latitude"] == "52.520000" and response.json()["is_implausible"] is False
    [event] = stored_events(shipment)
    assert event.source == "driver_app" and str(event.speed_kmh) == "62.5"


def test_the_client_side_does_not_report_the_location(api, shipper, shipment):
    url = f"/api/v1/tracking/orders/{shipment.order_id}/location"

    response = api(shipper.admin).post(url, ping(ago(seconds=10)), format="json")

    assert response.status_code == 403
    assert stored_events(shipment) == []


def test_a_third_organization_cannot_report_a_location(api, third, shipment):
    url = f"/api/v1/tracking/orders/{shipment.order_id}/location"

    assert api(third.admin).post(url, ping(ago(seconds=10)), format="json").status_code == 404


def test_a_bad_location_answers_its_errors_by_field(api, carrier, shipment):
    url = f"/api/v1/tracking/orders/{shipment.order_id}/location"

    response = api(carrier.staff).post(url, ping(ago(seconds=10), latitude=123), format="json")

    assert response.status_code == 400
    assert list(response.json()["details"]) == ["latitude"]
    assert TrackedShipment.objects is not None and stored_events(shipment) == []
