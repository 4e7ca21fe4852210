"""Packages on the move (seed 001): at the warehouse → in transit → out for delivery →
delivered, by the forwarder's warehouse people, each move with history and event; tracking
starts when the package leaves the warehouse and stops at delivery."""

from __future__ import annotations

import pytest

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.orders.models import PackageStatusChange
from apps.tenancy.roles import Role
from apps.tracking.models import TrackedShipment
from tests.factories import OrganizationFactory, member
from tests.orders.conftest import forwarder  # noqa: F401 (the fixture)
from tests.orders.test_forwarding_api import assign, receive, self_purchase
from tests.tracking.read_support import relay

pytestmark = pytest.mark.django_db


@pytest.fixture
def package(api, forwarder):  # noqa: F811
    """A self purchase's parcel received at the forwarder's Hamburg hub."""
    assert self_purchase(api, forwarder).status_code == 201
    assign(api, forwarder, forwarder["staff"])
    received = receive(api, forwarder, "1Z999AA1")
    assert received.status_code == 201, received.json()
    relay()
    return received.json()["package"]


def _move(api, forwarder, package_id, status, *, user="staff", **body):  # noqa: F811
    return api(forwarder[user], forwarder["org"]).post(
        f"/api/v1/packages/{package_id}/status", {"status": status, **body}, format="json"
    )


def _tracked(package_id) -> list[TrackedShipment]:
    with system_scope(reason="test: tracked packages", audit=False):
        return list(TrackedShipment.objects.filter(package_id=package_id))


def test_a_package_at_the_warehouse_is_not_tracked(package):
    assert package["status"] == "at_warehouse"
    assert _tracked(package["id"]) == []


def test_leaving_the_warehouse_moves_the_package_and_starts_its_tracking(api, forwarder, package):  # noqa: F811
    response = _move(api, forwarder, package["id"], "in_transit", location="Hamburg hub, gate 3")
    relay()

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["current_location"]) == ("in_transit", "Hamburg hub, gate 3")
    [shipment] = _tracked(package["id"])
    assert (shipment.kind, shipment.reference, shipment.status, shipment.is_active) == (
        "package",
        "1Z999AA1",
        "in_transit",
        True,
    )
    assert [(point["kind"], point["city"]) for point in shipment.route] == [
        ("warehouse", "Hamburg"),
        ("delivery", "Kazan"),
    ]
    assert shipment.tracking_number.startswith("MF")


def test_each_move_writes_history_and_an_event_naming_both_parties(api, forwarder, package):  # noqa: F811
    _move(api, forwarder, package["id"], "in_transit")
    _move(api, forwarder, package["id"], "out_for_delivery", location="Kazan depot", note="Van 4")

    with system_scope(reason="test: history and events", audit=False):
        history = list(
            PackageStatusChange.objects.filter(package_id=package["id"]).values_list(
                "from_status", "to_status", "location"
            )
        )
        event = OutboxEvent.objects.filter(event_type="package.status_changed").latest("created_at")
    assert history == [("at_warehouse", "in_transit", ""), ("in_transit", "out_for_delivery", "Kazan depot")]
    assert (event.payload["from_status"], event.payload["to_status"]) == ("in_transit", "out_for_delivery")
    assert event.payload["party_organization_ids"] == [str(forwarder["org"].id)]


def test_delivery_stamps_the_time_and_stops_the_tracking(api, forwarder, package):  # noqa: F811
    for status in ("in_transit", "out_for_delivery"):
        assert _move(api, forwarder, package["id"], status).status_code == 200
    relay()
    delivered = _move(api, forwarder, package["id"], "delivered", user="manager", location="Kazan, Lenina 1")
    relay()

    assert delivered.status_code == 200, delivered.json()
    assert delivered.json()["delivered_at"] is not None
    [shipment] = _tracked(package["id"])
    assert (shipment.status, shipment.is_active) == ("delivered", False)
    read = api(forwarder["manager"], forwarder["org"]).get(f"/api/v1/tracking/packages/{package['id']}").json()
    assert (read["status"], read["kind"], read["package_id"]) == ("delivered", "package", package["id"])


def test_a_skipped_step_is_an_invalid_transition_and_changes_nothing(api, forwarder, package):  # noqa: F811
    response = _move(api, forwarder, package["id"], "delivered")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    detail = api(forwarder["staff"], forwarder["org"]).get(f"/api/v1/packages/{package['id']}").json()
    assert detail["status"] == "at_warehouse" and detail["delivered_at"] is None


def test_a_customer_cannot_move_a_package(api, forwarder, package):  # noqa: F811
    response = _move(api, forwarder, package["id"], "in_transit", user="customer")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_warehouse_staff_not_assigned_to_the_warehouse_cannot_send_the_package_off(api, forwarder, package):  # noqa: F811
    stranger = member(forwarder["org"], Role.WAREHOUSE_STAFF)

    response = api(stranger, forwarder["org"]).post(
        f"/api/v1/packages/{package['id']}/status", {"status": "in_transit"}, format="json"
    )

    assert response.status_code == 403


def test_a_third_organization_gets_404(api, package):
    outsider = member(OrganizationFactory(name="Other Forwarder"), Role.WAREHOUSE_MANAGER)

    moved = api(outsider).post(f"/api/v1/packages/{package['id']}/status", {"status": "in_transit"}, format="json")
    read = api(outsider).get(f"/api/v1/tracking/packages/{package['id']}")

    assert (moved.status_code, read.status_code) == (404, 404)


def test_the_customer_reads_their_packages_tracking(api, forwarder, package):  # noqa: F811
    _move(api, forwarder, package["id"], "in_transit")
    relay()

    read = api(forwarder["customer"], forwarder["org"]).get(f"/api/v1/tracking/packages/{package['id']}/eta")

    assert read.status_code == 200, read.json()
