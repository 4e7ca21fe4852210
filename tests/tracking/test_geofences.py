"""Geofences through the API: circles and polygons checked, the organization's own only, and
copied onto the active shipments the organization is a party of whenever they change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.orders import services as order_services
from apps.tracking.models import Geofence, TrackedShipment
from apps.tracking.tasks import tracking_geofences_refresh
from tests.tracking.read_support import freight_order, move, relay

pytestmark = pytest.mark.django_db

URL = "/api/v1/tracking/geofences"
CIRCLE = {
    "name": "Warsaw depot",
    "shape": "circle",
    "center_latitude": "52.23",
    "center_longitude": "21.01",
    "radius_m": 800,
}
TRIANGLE = [[52.0, 13.0], [52.0, 14.0], [53.0, 13.5]]


def _snapshot(organization_id, order_id) -> list[dict]:
    with tenant_scope(organization_id):
        return TrackedShipment.objects.get(order_id=order_id).geofences


def test_a_circle_is_drawn_and_read_back(api, carrier):
    created = api(carrier.staff).post(URL, CIRCLE, format="json")

    assert created.status_code == 201, created.json()
    body = api(carrier.staff).get(f"{URL}/{created.json()['id']}").json()
    assert (body["shape"], body["center_latitude"], body["radius_m"], body["polygon"]) == (
        "circle",
        "52.230000",
        800,
        [],
    )


def test_a_polygon_ring_is_closed_for_you(api, carrier):
    created = api(carrier.staff).post(URL, {"name": "Berlin", "shape": "polygon", "polygon": TRIANGLE}, format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["polygon"] == [*TRIANGLE, TRIANGLE[0]]
    assert created.json()["center_latitude"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CIRCLE, "radius_m": 10}, "radius_m"),
        ({**CIRCLE, "radius_m": 500_000}, "radius_m"),
        ({**CIRCLE, "center_latitude": "91"}, "center_latitude"),
        ({key: value for key, value in CIRCLE.items() if key != "radius_m"}, "radius_m"),
        ({"name": "Line", "shape": "polygon", "polygon": [[52, 13], [53, 14]]}, "polygon"),
        ({"name": "Far", "shape": "polygon", "polygon": [[52, 13], [95, 14], [53, 15]]}, "polygon"),
        ({"name": "Bowtie", "shape": "polygon", "polygon": [[0, 0], [1, 1], [0, 1], [1, 0]]}, "polygon"),
        ({**CIRCLE, "warehouse_id": "00000000-0000-4000-8000-000000000000"}, "warehouse_id"),
    ],
)
def test_an_invalid_geofence_is_refused_with_the_field_named_and_nothing_is_written(api, carrier, body, field):
    response = api(carrier.staff).post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["details"]
    with tenant_scope(carrier.org.id):
        assert not Geofence.objects.exists()


def test_another_organizations_geofence_answers_404_on_every_verb(api, carrier, outsider):
    geofence_id = api(carrier.staff).post(URL, CIRCLE, format="json").json()["id"]
    client = api(outsider)

    responses = [
        client.get(f"{URL}/{geofence_id}"),
        client.patch(f"{URL}/{geofence_id}", {"name": "Mine"}, format="json"),
        client.delete(f"{URL}/{geofence_id}"),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert client.get(URL).json()["data"] == []
    assert api(carrier.staff).get(f"{URL}/{geofence_id}").json()["name"] == "Warsaw depot"


def test_a_shipper_reads_but_does_not_draw_geofences(api, shipper):
    assert api(shipper.staff).get(URL).status_code == 200
    assert api(shipper.staff).post(URL, CIRCLE, format="json").status_code == 403


def test_a_geofence_around_one_of_the_organizations_warehouses(api, carrier):
    with tenant_scope(carrier.org.id, user_id=carrier.admin.id):
        warehouse = order_services.warehouse_create(
            organization_id=carrier.org.id,
            actor=Actor(user_id=carrier.admin.id),
            data={"name": "Depot", "code": "waw-1", "country": "PL", "city": "Warsaw", "address_line1": "Prosta 1"},
        )

    created = api(carrier.staff).post(URL, {**CIRCLE, "warehouse_id": str(warehouse.id)}, format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["warehouse_id"] == str(warehouse.id)


def test_the_list_runs_the_same_queries_for_one_geofence_or_three(api, carrier):
    client = api(carrier.staff)
    client.post(URL, CIRCLE, format="json")
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(URL).json()["data"]) == 1
    for name in ("B", "C"):
        client.post(URL, {**CIRCLE, "name": name}, format="json")
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(URL).json()["data"]) == 3

    assert len(three.captured_queries) == len(one.captured_queries)


def test_changes_are_copied_onto_the_active_shipments_of_the_organization(api, shipper, carrier, confirmed):
    client = api(carrier.staff)

    created = client.post(URL, CIRCLE, format="json").json()
    after_create = _snapshot(carrier.org.id, confirmed.id)
    client.patch(f"{URL}/{created['id']}", {"radius_m": 1200}, format="json")
    after_update = _snapshot(carrier.org.id, confirmed.id)
    client.delete(f"{URL}/{created['id']}")
    after_delete = _snapshot(carrier.org.id, confirmed.id)

    assert [(entry["id"], entry["radius_m"]) for entry in after_create] == [(created["id"], 800)]
    assert [(entry["id"], entry["radius_m"]) for entry in after_update] == [(created["id"], 1200)]
    assert after_delete == []


def test_one_partys_change_keeps_the_other_partys_geofences_on_the_shipment(api, shipper, carrier, confirmed):
    api(shipper.admin).post(URL, {**CIRCLE, "name": "Shipper gate"}, format="json")
    api(carrier.staff).post(URL, {**CIRCLE, "name": "Carrier depot"}, format="json")

    names = sorted(entry["name"] for entry in _snapshot(carrier.org.id, confirmed.id))

    assert names == ["Carrier depot", "Shipper gate"]


def test_the_other_partys_geofences_arrive_after_start_through_its_own_task(api, shipper, carrier):
    api(shipper.admin).post(URL, {**CIRCLE, "name": "Shipper gate"}, format="json")
    order = freight_order(shipper, carrier)
    relay()
    move(api, carrier.staff, order.id, "confirmed")  # started in the carrier's scope
    at_start = _snapshot(carrier.org.id, order.id)
    with tenant_scope(carrier.org.id):
        shipment_id = TrackedShipment.objects.get(order_id=order.id).id

    # what the on-commit hook enqueues: the task runs in the shipper's own scope
    copied = tracking_geofences_refresh(organization_id=str(shipper.org.id), shipment_id=str(shipment_id))

    assert at_start == []  # the carrier cannot read the shipper's geofences
    assert copied == 1
    assert [entry["name"] for entry in _snapshot(carrier.org.id, order.id)] == ["Shipper gate"]


def test_a_deactivated_geofence_leaves_the_snapshots(api, carrier, confirmed):
    created = api(carrier.staff).post(URL, CIRCLE, format="json").json()

    api(carrier.staff).patch(f"{URL}/{created['id']}", {"is_active": False}, format="json")

    assert _snapshot(carrier.org.id, confirmed.id) == []


def test_a_geofence_that_alerts_on_entry_opens_an_alert_while_the_goods_are_inside(api, carrier, confirmed):
    client = api(carrier.staff)
    drawn = client.post(URL, {**CIRCLE, "alert_on_enter": True}, format="json")
    location = f"/api/v1/tracking/orders/{confirmed.id}/location"
    now = timezone.now()

    inside = client.post(
        location,
        {"latitude": "52.230000", "longitude": "21.010000", "occurred_at": (now - timedelta(minutes=30)).isoformat()},
        format="json",
    )
    alerts_inside = client.get("/api/v1/tracking/alerts", {"order_id": str(confirmed.id)}).json()["data"]
    outside = client.post(
        location,
        {"latitude": "52.230000", "longitude": "20.700000", "occurred_at": (now - timedelta(minutes=5)).isoformat()},
        format="json",
    )
    alerts_after = client.get("/api/v1/tracking/alerts", {"order_id": str(confirmed.id)}).json()["data"]

    assert drawn.status_code == 201 and drawn.json()["alert_on_enter"] is True
    assert (inside.status_code, outside.status_code) == (201, 201)
    assert [(alert["alert_type"], alert["status"]) for alert in alerts_inside] == [("geofence", "open")]
    assert [(alert["alert_type"], alert["status"]) for alert in alerts_after] == [("geofence", "resolved")]
