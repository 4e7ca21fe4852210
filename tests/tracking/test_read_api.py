"""The tracking read API of an order: detail, route (GeoJSON), ETA and events (by cursor), for
both parties, a customer only for their own order, and nobody else (404)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.tenancy.roles import Role
from apps.tracking.models import TrackedShipment, TrackingEvent
from apps.tracking.services.alerts import alert_raise, alert_resolve_condition
from apps.tracking.services.shipments import shipment_track_append
from tests.factories import member
from tests.tracking.read_support import freight_order, move

pytestmark = pytest.mark.django_db


def _shipment(organization_id, order_id) -> TrackedShipment:
    with tenant_scope(organization_id):
        return TrackedShipment.objects.get(order_id=order_id)


def pings(shipment, count, *, start=None, step=timedelta(minutes=1), implausible_every=0) -> list[TrackingEvent]:
    """`count` location pings along a line east from Hamburg, one a minute, stored as ingest
    would (in the carrier's scope)."""
    start = start or timezone.now() - timedelta(hours=count // 60 + 1)
    now = timezone.now()
    events = [
        TrackingEvent(
            shipment_id=shipment.id,
            client_organization_id=shipment.client_organization_id,
            supplier_organization_id=shipment.supplier_organization_id,
            event_type="location_update",
            source="device",
            occurred_at=start + step * index,
            received_at=now,
            latitude=Decimal("53.550000"),
            longitude=Decimal("10.000000") + Decimal("0.010000") * index,
            speed_kmh=Decimal("60.0"),
            is_implausible=bool(implausible_every and index % implausible_every == implausible_every - 1),
        )
        for index in range(count)
    ]
    with tenant_scope(shipment.supplier_organization_id):
        TrackingEvent.objects.bulk_create(events)
    return events


@pytest.fixture
def tracked(confirmed, carrier):
    return _shipment(carrier.org.id, confirmed.id)


def _url(order_id, tail="") -> str:
    return f"/api/v1/tracking/orders/{order_id}{tail}"


def test_both_parties_read_the_tracking_with_status_number_and_route(api, shipper, carrier, tracked):
    by_shipper = api(shipper.staff).get(_url(tracked.order_id))
    by_carrier = api(carrier.staff).get(_url(tracked.order_id))

    assert by_shipper.status_code == by_carrier.status_code == 200, by_shipper.json()
    body = by_shipper.json()
    # the same shipment (an ETA computed on reading has each read's own time)
    assert {**body, "eta": None} == {**by_carrier.json(), "eta": None}
    assert (body["status"], body["tracking_number"], body["kind"]) == ("confirmed", tracked.tracking_number, "order")
    assert body["order_id"] == str(tracked.order_id) and body["package_id"] is None
    assert [point["city"] for point in body["route"]] == ["Hamburg", "Warsaw", "Berlin"]
    assert body["position"] is None and body["last_events"] == [] and body["open_alerts"] == []


def test_the_detail_shows_the_position_the_last_ten_events_and_the_open_alerts(api, shipper, carrier, tracked):
    events = pings(tracked, 12)
    seen = timezone.now() - timedelta(minutes=2)
    with tenant_scope(carrier.org.id):
        TrackedShipment.objects.filter(pk=tracked.pk).update(
            last_latitude=Decimal("53.55"), last_longitude=Decimal("10.11"), last_position_at=seen, last_city="Hamburg"
        )
        alert_raise(shipment=tracked, alert_type="deviation", severity="medium", message="Off", condition_key="d")
        alert_raise(shipment=tracked, alert_type="manual", severity="high", message="Call the driver")
        alert_raise(shipment=tracked, alert_type="no_signal", severity="low", message="Quiet", condition_key="n")
        alert_resolve_condition(shipment=tracked, condition_key="n", reason="Back")

    body = api(shipper.staff).get(_url(tracked.order_id)).json()

    assert body["position"]["latitude"] == "53.550000" and body["position"]["city"] == "Hamburg"
    assert [event["id"] for event in body["last_events"]] == [str(event.id) for event in reversed(events[2:])]
    assert sorted(alert["message"] for alert in body["open_alerts"]) == ["Call the driver", "Off"]


def test_a_third_organization_gets_404_on_every_read(api, outsider, tracked):
    responses = [api(outsider).get(_url(tracked.order_id, tail)) for tail in ("", "/route", "/eta", "/events")]

    assert [response.status_code for response in responses] == [404, 404, 404, 404]
    assert {response.json()["error_code"] for response in responses} == {"NOT_FOUND"}


def test_an_order_not_tracked_yet_answers_404(api, shipper, carrier):
    order = freight_order(shipper, carrier)

    response = api(shipper.staff).get(_url(order.id))

    assert response.status_code == 404


def test_a_customer_reads_the_tracking_of_their_own_order_only(api, shipper, carrier, tracked):
    other_customer = member(shipper.org, Role.CUSTOMER)

    own = api(shipper.customer).get(_url(tracked.order_id))
    not_own = api(other_customer).get(_url(tracked.order_id))

    assert own.status_code == 200, own.json()
    assert not_own.status_code == 404


def test_a_role_without_tracking_read_is_refused(api, shipper, tracked):
    agent = member(shipper.org, Role.PURCHASE_AGENT)

    response = api(agent).get(_url(tracked.order_id))

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_the_route_is_geojson_of_the_plan_its_waypoints_and_the_track(api, shipper, carrier, tracked):
    events = pings(tracked, 30, implausible_every=10)
    with tenant_scope(carrier.org.id):
        shipment_track_append(shipment=tracked, events=events)

    body = api(shipper.staff).get(_url(tracked.order_id, "/route")).json()

    assert body["type"] == "FeatureCollection"
    planned, *waypoints, track = body["features"]
    assert planned["properties"]["role"] == "planned_route"
    assert planned["geometry"] == {
        "type": "LineString",
        "coordinates": [[10.0, 53.55], [21.01, 52.23], [13.405, 52.52]],
    }
    assert [(point["properties"]["kind"], point["geometry"]["coordinates"]) for point in waypoints] == [
        ("pickup", [10.0, 53.55]),
        ("stop", [21.01, 52.23]),
        ("delivery", [13.405, 52.52]),
    ]
    assert track["properties"]["role"] == "track" and track["geometry"]["type"] == "LineString"
    assert track["properties"]["pings"] == 27  # the three implausible pings are left out
    assert len(track["geometry"]["coordinates"]) == 27
    assert track["geometry"]["coordinates"][0] == [10.0, 53.55]


def test_the_eta_reads_what_was_computed(api, shipper, carrier, tracked):
    eta = timezone.now() + timedelta(days=2)
    computed = timezone.now() - timedelta(minutes=1)
    with tenant_scope(carrier.org.id):
        TrackedShipment.objects.filter(pk=tracked.pk).update(
            eta_at=eta, eta_computed_at=computed, remaining_distance_m=512_000
        )

    body = api(shipper.staff).get(_url(tracked.order_id, "/eta")).json()

    assert body["remaining_distance_m"] == 512_000
    assert body["eta_at"] == eta.isoformat().replace("+00:00", "Z")
    assert body["promised_at"] == "2027-01-14T23:59:59Z"
    assert body["computed_at"] is not None
    assert body["basis"] == "stored"
    assert body["is_late"] is False


def test_an_eta_not_computed_yet_is_computed_on_reading_from_the_route_and_positions(api, shipper, tracked):
    pings(tracked, 20)  # stored without the pipeline: no ETA on the shipment

    body = api(shipper.staff).get(_url(tracked.order_id, "/eta")).json()

    assert body["basis"] in ("recent_speed", "default_speed")
    assert body["eta_at"] is not None and body["remaining_distance_m"] > 0


def test_without_positions_the_eta_says_so(api, shipper, tracked):
    body = api(shipper.staff).get(_url(tracked.order_id, "/eta")).json()

    assert (body["basis"], body["eta_at"]) == ("no_position", None)


def test_events_are_read_newest_first_by_cursor(api, shipper, tracked):
    events = pings(tracked, 12)
    client = api(shipper.staff)

    first = client.get(_url(tracked.order_id, "/events"), {"limit": 5}).json()
    second = client.get(first["meta"]["next"]).json()
    third = client.get(second["meta"]["next"]).json()

    newest_first = [str(event.id) for event in reversed(events)]
    assert [event["id"] for event in first["data"] + second["data"] + third["data"]] == newest_first
    assert third["meta"]["next"] is None


@pytest.mark.parametrize("tail", ["", "/events"])
def test_reading_runs_the_same_queries_for_one_event_or_three(api, shipper, carrier, tracked, tail):
    client = api(shipper.staff)
    pings(tracked, 1, start=timezone.now() - timedelta(hours=3))
    client.get(_url(tracked.order_id, tail))  # warm: the session, the membership
    with CaptureQueriesContext(connection) as one:
        assert client.get(_url(tracked.order_id, tail)).status_code == 200
    pings(tracked, 2, start=timezone.now() - timedelta(hours=2))
    with tenant_scope(carrier.org.id):
        alert_raise(shipment=tracked, alert_type="manual", severity="low", message="A")
        alert_raise(shipment=tracked, alert_type="manual", severity="low", message="B")
    with CaptureQueriesContext(connection) as three:
        body = client.get(_url(tracked.order_id, tail)).json()

    assert len(body["data"] if tail else body["last_events"]) == 3
    assert len(three.captured_queries) == len(one.captured_queries)


def test_the_tracking_follows_the_order_in_the_read_api(api, shipper, carrier, tracked):
    move(api, carrier.staff, tracked.order_id, "in_transit")

    body = api(shipper.staff).get(_url(tracked.order_id)).json()

    assert body["status"] == "in_transit" and body["is_active"] is True


def test_pings_through_the_ingest_endpoint_draw_the_track(api, shipper, carrier, tracked):
    start = timezone.now() - timedelta(minutes=30)
    rows = [
        {
            "event_type": "location_update",
            "occurred_at": (start + timedelta(minutes=index)).isoformat(),
            "latitude": "53.550000",
            "longitude": str(Decimal("10.000000") + Decimal("0.010000") * index),
        }
        for index in range(5)
    ]
    posted = api(carrier.staff).post(
        "/api/v1/tracking/events", {"order_id": str(tracked.order_id), "events": rows}, format="json"
    )
    assert posted.status_code in (200, 201, 207), posted.json()

    track = api(shipper.staff).get(_url(tracked.order_id, "/route")).json()["features"][-1]

    assert track["properties"]["pings"] == 5
    assert track["geometry"]["coordinates"][-1] == [10.04, 53.55]
