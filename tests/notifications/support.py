"""What the notifications tests share: an event to tell, told as the relay tells it."""

from __future__ import annotations

import uuid

from apps.core.context import tenant_scope, user_scope
from apps.core.services import outbox_publish
from apps.marketplace.events import OfferSubmitted
from apps.notifications import services
from apps.notifications.models import Delivery, Notification
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member


def make_deal() -> dict:
    """A shipper with an admin, a shipper and a warehouse clerk; a carrier with its carrier."""
    shipper = OrganizationFactory(name="Baltic Shippers")
    carrier = OrganizationFactory(name="Volga Carriers")
    return {
        "shipper": shipper,
        "carrier": carrier,
        "admin": member(shipper, Role.ORG_ADMIN),
        "booker": member(shipper, Role.SHIPPER),
        "clerk": member(shipper, Role.WAREHOUSE_STAFF),
        "driver": member(carrier, Role.CARRIER),
    }


def offer_submitted(deal, **overrides) -> OfferSubmitted:
    fields = {
        "organization_id": deal["carrier"].id,
        "offer_id": str(uuid.uuid4()),
        "rfq_id": str(uuid.uuid4()),
        "rfq_number": "RFQ-2026-000042",
        "carrier_organization_id": str(deal["carrier"].id),
        "version": 1,
        "status": "submitted",
        "party_organization_ids": sorted([str(deal["shipper"].id), str(deal["carrier"].id)]),
        "price": "1850.00",
        "currency": "EUR",
    }
    return OfferSubmitted(**{**fields, **overrides})


def relay(event, *, actor=None):
    """Publish the event as its service would, then hand it to the fan-out as the relay does."""
    with tenant_scope(event.organization_id, user_id=actor.id if actor else None):
        row = outbox_publish(event)
        written = services.event_fan_out(event=row)
    return row, written


def notifications_of(user) -> list[Notification]:
    with user_scope(user.id):
        return list(Notification.objects.filter(user=user).order_by("created_at"))


def deliveries_of(user) -> dict[str, Delivery]:
    with user_scope(user.id):
        return {delivery.channel: delivery for delivery in Delivery.objects.filter(user=user)}
