"""Sending a delivery: claim it, post it signed through the SSRF-safe client, record the
attempt; the retry schedule and the circuit breaker.

A send is two short transactions around the HTTP call, never one held open while the
receiver answers: the claim (the delivery is due and pending; its attempt is counted and it is
leased for WEBHOOKS["SEND_LEASE"], so a second task or the beat finds it not due), then the
record (the attempt's row, the delivery's state, the endpoint's failure count). A worker that
dies between them leaves the lease to expire and the beat job sends it again: delivery is at
least once, and receivers deduplicate by `Manifest-Event-Id`.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.context import tenant_scope
from apps.core.outbound import OutboundFailed, OutboundRefused, Resolver, request
from apps.core.services import outbox_publish
from apps.webhooks import events
from apps.webhooks.models import PING_EVENT_TYPE, DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.webhooks.services.endpoints import endpoint_secrets
from apps.webhooks.signing import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

USER_AGENT = "Manifest-Webhooks/1"
JITTER = 0.1  # a retry waits its delay plus up to this share of it


def retry_delay(attempt_number: int, *, rng: random.Random | None = None) -> timedelta | None:
    """How long after failed attempt `attempt_number` (from 1) the next one is made, with
    jitter (so that an endpoint back from an outage is not hit by every retry at once);
    None after the last one."""
    schedule = settings.WEBHOOKS["RETRY_SCHEDULE"]
    if attempt_number > len(schedule):
        return None
    delay = schedule[attempt_number - 1]
    return delay * (1 + (rng or random).uniform(0, JITTER))


@dataclass(frozen=True)
class Claim:
    delivery_id: UUID
    organization_id: UUID
    endpoint_id: UUID
    sequence: int
    number: int
    url: str
    body: str
    event_id: UUID
    event_type: str
    secrets: list[str]

    @property
    def is_ping(self) -> bool:
        return self.event_type == PING_EVENT_TYPE


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    status_code: int | None = None
    latency_ms: int | None = None
    response_excerpt: str = ""
    error: str = ""


def _claim(*, delivery_id: UUID, organization_id: UUID, now: datetime) -> Claim | None:
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .filter(pk=delivery_id, organization_id=organization_id)
        .first()
    )
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    if delivery.next_attempt_at is None or delivery.next_attempt_at > now or not delivery.endpoint.is_active:
        return None  # not due (a retry later, or another send holds it), or the endpoint is off
    delivery.attempt_count += 1
    delivery.last_attempt_at = now
    delivery.next_attempt_at = now + settings.WEBHOOKS["SEND_LEASE"]
    delivery.save(update_fields=["attempt_count", "last_attempt_at", "next_attempt_at", "updated_at"])
    endpoint = delivery.endpoint
    return Claim(
        delivery_id=delivery.id,
        organization_id=delivery.organization_id,
        endpoint_id=endpoint.id,
        sequence=delivery.sequence,
        number=delivery.attempt_count,
        url=endpoint.url,
        body=delivery.body,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        secrets=endpoint_secrets(endpoint, now=now),
    )


def signed_headers(claim: Claim, *, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Manifest-Event-Id": str(claim.event_id),
        "Manifest-Event-Type": claim.event_type,
        "Manifest-Delivery-Id": str(claim.delivery_id),
        SIGNATURE_HEADER: signature_header(claim.secrets, timestamp, body),
    }


def _post(claim: Claim, *, now: datetime, resolver: Resolver | None) -> Outcome:
    body = claim.body.encode()
    options = settings.WEBHOOKS
    headers = signed_headers(claim, timestamp=int(now.timestamp()), body=body)
    started = timezone.now()
    try:
        response = request(
            "POST",
            claim.url,
            body=body,
            headers=headers,
            connect_timeout=options["CONNECT_TIMEOUT"],
            read_timeout=options["READ_TIMEOUT"],
            max_response_bytes=options["RESPONSE_EXCERPT_BYTES"],
            resolver=resolver,
        )
    except (OutboundRefused, OutboundFailed) as error:
        elapsed = round((timezone.now() - started).total_seconds() * 1000)
        prefix = "refused: " if isinstance(error, OutboundRefused) else ""
        return Outcome(succeeded=False, latency_ms=elapsed, error=f"{prefix}{error}"[:500])
    excerpt = response.body.decode("utf-8", errors="replace")
    succeeded = 200 <= response.status < 300
    error = ""
    if 300 <= response.status < 400:
        error = f"redirect not followed (Location: {response.headers.get('location', '')})"[:500]
    elif not succeeded:
        error = f"HTTP {response.status}"
    return Outcome(
        succeeded=succeeded,
        status_code=response.status,
        latency_ms=response.elapsed_ms,
        response_excerpt=excerpt,
        error=error,
    )


def _endpoint_after_attempt(endpoint: WebhookEndpoint, *, succeeded: bool, now: datetime) -> None:
    """A success resets the failure count; a failure adds to it, and past the breaker's
    threshold (so many in a row, spanning so long) switches the endpoint off and tells its
    organization (webhook_endpoint.disabled)."""
    if succeeded:
        if endpoint.consecutive_failures or endpoint.failing_since:
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
            endpoint.save(update_fields=["consecutive_failures", "failing_since", "updated_at"])
        return
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or now
    fields = ["consecutive_failures", "failing_since", "updated_at"]
    options = settings.WEBHOOKS
    tripped = (
        endpoint.is_active
        and endpoint.consecutive_failures >= options["DISABLE_AFTER_FAILURES"]
        and now - endpoint.failing_since >= options["DISABLE_AFTER_SPAN"]
    )
    if tripped:
        endpoint.is_active = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = (
            f"{endpoint.consecutive_failures} failed attempts in a row since "
            f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC."
        )
        fields += ["is_active", "disabled_at", "disabled_reason"]
    endpoint.save(update_fields=fields)
    if tripped:
        _endpoint_disabled(endpoint)


def _endpoint_disabled(endpoint: WebhookEndpoint) -> None:
    audit_record(
        action="webhook.endpoint_disabled",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        new_values={"is_active": False, "reason": endpoint.disabled_reason},
        organization_id=endpoint.organization_id,
    )
    outbox_publish(
        events.WebhookEndpointDisabled(
            organization_id=endpoint.organization_id,
            endpoint_id=str(endpoint.id),
            url=endpoint.url,
            reason=endpoint.disabled_reason,
            failures=endpoint.consecutive_failures,
        )
    )
    logger.warning(
        "webhooks.endpoint_disabled",
        extra={"endpoint_id": str(endpoint.id), "failures": endpoint.consecutive_failures},
    )


def _record(claim: Claim, outcome: Outcome, *, now: datetime) -> str | None:
    # The endpoint before the delivery, as everywhere: no two transactions lock them crosswise.
    endpoint = WebhookEndpoint.objects.select_for_update(no_key=True).filter(pk=claim.endpoint_id).first()
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=claim.delivery_id).first()
    if endpoint is None or delivery is None:
        return None  # removed with its endpoint meanwhile
    WebhookAttempt.objects.create(
        organization_id=claim.organization_id,
        delivery_id=claim.delivery_id,
        sequence=claim.sequence,
        number=claim.number,
        requested_at=now,
        succeeded=outcome.succeeded,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        response_excerpt=outcome.response_excerpt,
        error=outcome.error,
    )
    current = (
        delivery.status == DeliveryStatus.PENDING
        and delivery.sequence == claim.sequence
        and delivery.attempt_count == claim.number
    )
    if not current:
        return delivery.status  # a redelivery started meanwhile: its own attempts decide
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    if outcome.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
    else:
        delay = None if claim.is_ping else retry_delay(claim.number)
        delivery.next_attempt_at = now + delay if delay is not None else None
        if delay is None:
            delivery.status = DeliveryStatus.FAILED
    delivery.save(
        update_fields=["status", "delivered_at", "next_attempt_at", "last_status_code", "last_error", "updated_at"]
    )
    if not claim.is_ping:
        _endpoint_after_attempt(endpoint, succeeded=outcome.succeeded, now=now)
    logger.info(
        "webhooks.attempted",
        extra={
            "delivery_id": str(claim.delivery_id),
            "attempt": claim.number,
            "status_code": outcome.status_code,
            "delivery_status": delivery.status,
        },
    )
    return delivery.status


def delivery_send(
    *, delivery_id: UUID, organization_id: UUID, now: datetime | None = None, resolver: Resolver | None = None
) -> str | None:
    """Make the delivery's next attempt if it is due; its status afterwards, or None when there
    was nothing to send (not due, not pending, its endpoint switched off, or gone).

    Call it outside any transaction: it opens the endpoint organization's scope itself, once per
    short transaction (its task is a non-atomic TenantTask), because no transaction may stay
    open while the receiver answers. `now` stands for the clock (the schedule's tests)."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("delivery_send must not run inside a transaction: it calls the receiver")
    now = now or timezone.now()
    with tenant_scope(organization_id):
        claim = _claim(delivery_id=delivery_id, organization_id=organization_id, now=now)
    if claim is None:
        return None
    outcome = _post(claim, now=now, resolver=resolver)
    with tenant_scope(organization_id):
        return _record(claim, outcome, now=now)


def deliveries_due(*, now: datetime | None = None, limit: int | None = None) -> list[tuple[UUID, UUID]]:
    """(delivery id, organization id) of pending deliveries whose attempt is due, on active
    endpoints, the most overdue first. Finding them needs to see every tenant: the beat job
    calls it in its discovery scope, and each is then sent in its organization's own."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        )
        .order_by("next_attempt_at")
        .values_list("id", "organization_id")[: limit or settings.WEBHOOKS["RETRY_BATCH"]]
    )
