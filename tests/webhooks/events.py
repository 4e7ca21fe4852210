"""Publishing a real domain event for the webhook tests, and relaying it as the worker would."""

from __future__ import annotations

import uuid

from apps.core.context import tenant_scope
from apps.core.services import outbox_publish, outbox_relay
from apps.orders.events import OrderCreated


def order_created(organization, *, parties=()):
    """An order.created of `organization` naming `parties` (organizations) as the order's parties,
    written to the outbox and relayed (fan-out included); the outbox row."""
    with tenant_scope(organization.id):
        event = outbox_publish(
            OrderCreated(
                organization_id=organization.id,
                order_id=str(uuid.uuid4()),
                number="FR-2026-000001",
                kind="freight",
                status="confirmed",
                party_organization_ids=[str(party.id) for party in (organization, *parties)],
            )
        )
    outbox_relay(organization_id=organization.id, event_ids=[event.id])
    return event
