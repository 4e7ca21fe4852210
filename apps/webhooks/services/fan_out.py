"""From an outbox event to deliveries: one per active endpoint whose patterns match, of each
organization the event concerns; and the manual ones (a ping, a redelivery)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import system_scope
from apps.core.errors import InvalidStateTransition, NotFound
from apps.webhooks.catalogue import matches
from apps.webhooks.models import PING_EVENT_TYPE, DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


def event_body(
    *, event_id: UUID, event_type: str, created_at: datetime, organization_id: UUID | None, data: dict
) -> str:
    """The JSON a delivery sends, frozen on its row: the same bytes at every attempt."""
    return json.dumps(
        {
            "id": str(event_id),
            "type": event_type,
            "created_at": created_at.isoformat(),
            "organization_id": str(organization_id) if organization_id else None,
            "data": data,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def event_audience(event) -> set[UUID]:
    """The organizations an event concerns: the acting one and the parties its payload names
    (the live feed's audience, apps/tenancy/handlers.py). A value that is no organization id
    (an empty party) is skipped: it must not stop the event's other consumers."""
    named = [event.organization_id, *event.payload.get("party_organization_ids", ())]
    audience = set()
    for organization_id in named:
        try:
            audience.add(UUID(str(organization_id)))
        except ValueError:
            continue
    return audience


def _send_on_commit(deliveries: list[tuple[UUID, UUID]]) -> None:
    """After commit, one send task per delivery, in the endpoint organization's scope. A lost
    enqueue is not lost work: the delivery is due, and the beat job sends it."""

    def enqueue():
        from apps.webhooks.tasks import webhook_delivery_send

        for delivery_id, organization_id in deliveries:
            try:
                webhook_delivery_send.delay(delivery_id=str(delivery_id), organization_id=str(organization_id))
            except Exception:  # the broker is away: webhooks-retry-due picks it up
                logger.warning("webhooks.enqueue_failed", extra={"delivery_id": str(delivery_id)})

    if deliveries:
        transaction.on_commit(enqueue)


@transaction.atomic
def deliveries_fan_out(*, event) -> list[UUID]:
    """One pending delivery per active endpoint that matches the event, of every organization
    it concerns; the new deliveries' ids. Relaying the same event again creates nothing.

    Runs in the relay's transaction, in the acting organization's scope. The endpoints of the
    other organizations (the parties) are found in the all-tenants scope, read-only and
    unaudited (it runs for every event); their deliveries are inserted in the acting scope,
    which the table's open insert allows (never reading them back)."""
    audience = event_audience(event)
    if not audience:
        return []
    with system_scope(reason="webhooks.fan_out: endpoints of the organizations an event concerns", audit=False):
        endpoints = WebhookEndpoint.objects.filter(organization_id__in=audience, is_active=True)
        matching = {
            endpoint_id: organization_id
            for endpoint_id, organization_id, patterns in endpoints.values_list("id", "organization_id", "event_types")
            if matches(patterns, event.event_type)
        }
        already = set()
        if matching:
            already = set(
                WebhookDelivery.objects.filter(event_id=event.id, endpoint_id__in=list(matching)).values_list(
                    "endpoint_id", flat=True
                )
            )
    targets = [
        (endpoint_id, organization_id)
        for endpoint_id, organization_id in matching.items()
        if endpoint_id not in already
    ]
    if not targets:
        return []
    body = event_body(
        event_id=event.id,
        event_type=event.event_type,
        created_at=event.created_at,
        organization_id=event.organization_id,
        data=event.payload,
    )
    now = timezone.now()
    rows = [
        WebhookDelivery(
            organization_id=organization_id,
            endpoint_id=endpoint_id,
            event_id=event.id,
            event_type=event.event_type,
            body=body,
            next_attempt_at=now,
        )
        for endpoint_id, organization_id in sorted(targets, key=lambda target: str(target[0]))
    ]
    # ON CONFLICT DO NOTHING: a relay racing this one (the beat's and the on-commit one) leaves
    # one row per endpoint and event; a send task for a row that lost finds nothing to do.
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    _send_on_commit([(row.id, row.organization_id) for row in rows])
    logger.info("webhooks.fanned_out", extra={"event_id": str(event.id), "deliveries": len(rows)})
    return [row.id for row in rows]


@transaction.atomic
def endpoint_ping(*, actor: Actor, endpoint_id: UUID, now: datetime | None = None) -> WebhookDelivery:
    """A `webhook.ping` delivery to one of the organization's active endpoints, sent at once
    (one attempt, no retries; it leaves the circuit breaker alone)."""
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.filter(organization_id=actor.organization_id, pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    if not endpoint.is_active:
        raise InvalidStateTransition("The endpoint is switched off: switch it on first.")
    event_id = uuid.uuid4()
    delivery = WebhookDelivery.objects.create(
        organization_id=endpoint.organization_id,
        endpoint_id=endpoint.id,
        event_id=event_id,
        event_type=PING_EVENT_TYPE,
        body=event_body(
            event_id=event_id,
            event_type=PING_EVENT_TYPE,
            created_at=now,
            organization_id=endpoint.organization_id,
            data={"endpoint_id": str(endpoint.id), "message": "A test ping from Manifest."},
        ),
        next_attempt_at=now,
    )
    audit_record(
        action="webhook.pinged",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        organization_id=endpoint.organization_id,
        actor=actor,
    )
    _send_on_commit([(delivery.id, delivery.organization_id)])
    return delivery


@transaction.atomic
def delivery_redeliver(*, actor: Actor, delivery_id: UUID, now: datetime | None = None) -> WebhookDelivery:
    """Send a delivery again: a new sequence of attempts (the retry schedule from its start)
    with the same body and a fresh signature. 422 while its endpoint is switched off."""
    now = now or timezone.now()
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .filter(organization_id=actor.organization_id, pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise NotFound("Webhook delivery not found.")
    if not delivery.endpoint.is_active:
        raise InvalidStateTransition("The endpoint is switched off: switch it on first.")
    previous = delivery.status
    delivery.sequence += 1
    delivery.attempt_count = 0
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.delivered_at = None
    delivery.save(
        update_fields=["sequence", "attempt_count", "status", "next_attempt_at", "delivered_at", "updated_at"]
    )
    audit_record(
        action="webhook.redelivered",
        resource_type="webhook_delivery",
        resource_id=delivery.id,
        old_values={"status": previous},
        new_values={"sequence": delivery.sequence},
        organization_id=delivery.organization_id,
        actor=actor,
    )
    _send_on_commit([(delivery.id, delivery.organization_id)])
    return delivery
