"""Tracked shipments and geofences in the back-office: each organization admin sees its own
(a shipment: either party's admin), nobody else's; switching a geofence off goes through the
service and leaves the shipments' snapshots."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.context import tenant_scope
from apps.tenancy.roles import Role
from apps.tracking.models import Geofence, TrackedShipment
from tests.factories import OrganizationFactory, member
from tests.support import admin_client

pytestmark = pytest.mark.django_db

CIRCLE = {"name": "Depot", "shape": "circle", "center_latitude": "52.23", "center_longitude": "21.01", "radius_m": 800}


def test_both_parties_admins_see_the_tracked_shipment_and_a_third_does_not(shipper, carrier, confirmed):
    with tenant_scope(carrier.org.id):
        shipment = TrackedShipment.objects.get(order_id=confirmed.id)
    page = reverse("admin:tracking_trackedshipment_change", args=[shipment.pk])

    for admin in (shipper.admin, carrier.admin):
        listed = admin_client(admin).get(reverse("admin:tracking_trackedshipment_changelist")).content.decode()
        assert shipment.tracking_number in listed
        assert admin_client(admin).get(page).status_code == 200
    third = member(OrganizationFactory(name="Rhein Logistik"), Role.ORG_ADMIN)
    assert (
        shipment.tracking_number
        not in admin_client(third).get(reverse("admin:tracking_trackedshipment_changelist")).content.decode()
    )
    assert admin_client(third).get(page).status_code in (302, 404)


def test_an_admin_switches_a_geofence_off_through_the_service(api, carrier, confirmed):
    geofence_id = api(carrier.staff).post("/api/v1/tracking/geofences", CIRCLE, format="json").json()["id"]

    response = admin_client(carrier.admin).post(
        reverse("admin:tracking_geofence_changelist"), {"action": "switch_off", "_selected_action": [geofence_id]}
    )

    assert response.status_code == 302
    with tenant_scope(carrier.org.id):
        assert Geofence.objects.get(pk=geofence_id).is_active is False
        assert TrackedShipment.objects.get(order_id=confirmed.id).geofences == []
