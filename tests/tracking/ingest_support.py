"""Set-up of the ingest and device tests: a shipper, its carrier (with a device on the
shipment) and a third organization; rows as a device sends them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.tenancy.roles import Role
from apps.tracking.models import TrackingEvent
from tests.factories import OrganizationFactory, member
from tests.tracking.factories import tracked_order

EVENTS = "/api/v1/tracking/events"
DEVICES = "/api/v1/tracking/devices"
HAMBURG = (53.5511, 9.9937)


@dataclass
class Party:
    org: object
    admin: object
    staff: object


def party(role: str) -> Party:
    organization = OrganizationFactory()
    return Party(org=organization, admin=member(organization, Role.ORG_ADMIN), staff=member(organization, role))


def shipment_between(shipper: Party, carrier: Party, **fields):
    with tenant_scope(shipper.org.id):
        return tracked_order(shipper.org, carrier.org, **fields)


def register_device(api, carrier: Party, name: str = "Truck 7") -> tuple[dict, str]:
    response = api(carrier.staff).post(DEVICES, {"name": name, "serial_number": "SN-1"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json(), response.json()["key"]


def assign(api, carrier: Party, device_id, shipment, **window):
    body = {"shipment_id": str(shipment.id), **{k: v.isoformat() for k, v in window.items()}}
    return api(carrier.staff).post(f"{DEVICES}/{device_id}/assignments", body, format="json")


def device_client(api, key: str):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return client


def ago(**delta) -> datetime:
    return timezone.now() - timedelta(**delta)


def ping(at: datetime, latitude=HAMBURG[0], longitude=HAMBURG[1], **fields) -> dict:
    return {"occurred_at": at.isoformat(), "latitude": str(latitude), "longitude": str(longitude), **fields}


def stored_events(shipment, organization_id=None) -> list[TrackingEvent]:
    """The shipment's events by time, as the tenant (default: every tenant) reads them."""
    if organization_id is None:
        with system_scope(reason="test", audit=False):
            return list(TrackingEvent.objects.filter(shipment_id=shipment.id).order_by("occurred_at"))
    with tenant_scope(organization_id):
        return list(TrackingEvent.objects.filter(shipment_id=shipment.id).order_by("occurred_at"))


def reread(shipment):
    with system_scope(reason="test", audit=False):
        shipment.refresh_from_db()
    return shipment
