"""What the alert tests share: the two parties of a tracked order, and reading what was stored."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.orders import services as order_services
from apps.tenancy.roles import Role
from apps.tracking.models import Alert, Device, DeviceAssignment, TrackedShipment
from tests.factories import OrganizationFactory, member
from tests.shipments import COMPLETE_SHIPMENT
from tests.tracking.factories import tracked_order

ALERTS = "/api/v1/tracking/alerts"


@dataclass
class Party:
    org: object
    admin: object
    staff: object  # the member who follows the goods: a shipper, a carrier


def party(role: str) -> Party:
    organization = OrganizationFactory()
    return Party(org=organization, admin=member(organization, Role.ORG_ADMIN), staff=member(organization, role))


def track(shipper: Party, carrier: Party, **fields) -> TrackedShipment:
    with tenant_scope(shipper.org.id):
        return tracked_order(shipper.org, carrier.org, **fields)


def track_for_customer(client: Party, supplier: Party, customer) -> TrackedShipment:
    """A tracked order whose customer is `customer`, a member of the client organization."""
    order = order_services.order_create(
        order_input=order_services.OrderInput(
            kind="freight",
            client_organization_id=client.org.id,
            supplier_organization_id=supplier.org.id,
            currency="EUR",
            customer_id=customer.id,
            items=[order_services.ItemInput(name="FTL", quantity=1, unit_price=Decimal("100"))],
            shipment=COMPLETE_SHIPMENT,
        ),
        actor=Actor(user_id=None),
    )
    return TrackedShipment.objects.create(
        kind="order",
        order=order,
        client_organization_id=client.org.id,
        supplier_organization_id=supplier.org.id,
        tracking_number=f"MF{secrets.token_hex(5).upper()}",
        reference=order.number,
        status=order.status,
    )


def stored_alert(alert_id) -> Alert:
    with system_scope(reason="test reads what was stored", audit=False):
        return Alert.objects.get(pk=alert_id)


def alert_events(event_type: str, alert_id=None) -> list[OutboxEvent]:
    with system_scope(reason="test reads the outbox", audit=False):
        rows = OutboxEvent.objects.filter(event_type=event_type)
        if alert_id is not None:
            rows = rows.filter(payload__alert_id=str(alert_id))
        return list(rows)


def assign_device(owner: Party, shipment: TrackedShipment, *, since: datetime, revoked: bool = False) -> Device:
    """One of `owner`'s devices, assigned to the shipment from `since` on (the devices' own
    services are another area's: the rows are written as they would leave them)."""
    with tenant_scope(owner.org.id):
        device = Device.objects.create(
            organization_id=owner.org.id,
            name="Reefer unit 7",
            key_prefix="mfd_test",
            key_digest=f"{shipment.id.hex}{since.timestamp():.0f}"[:64],
            revoked_at=timezone.now() if revoked else None,
        )
        DeviceAssignment.objects.create(
            organization_id=owner.org.id, device=device, shipment_id=shipment.id, valid_from=since
        )
    return device
