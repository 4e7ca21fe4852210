"""Status push-back: when our platform order ships, the fulfilment (and its tracking number) goes
back to the platform.

The order's `order.status_changed` event (through the outbox, at least once) makes one
`StatusPush` row per event (its id is unique), unless the platform already said the order
shipped (then it was the platform's news, not ours). The worker sends it; a failure the platform
may get over is retried after PUSH_RETRY_SCHEDULE's delays (a beat job finds the due ones), a
refusal or the schedule's end leaves it FAILED with the reason, in the back-office."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.integrations.adapters import adapter_for
from apps.integrations.adapters.base import PlatformError, PlatformRejected
from apps.integrations.credentials import credentials_open
from apps.integrations.models import PlatformOrderLink, PushState, StatusPush

logger = logging.getLogger(__name__)

SHIPPED = "in_transit"
# Our statuses at or past shipping: a platform already there needs no push.
SHIPPED_OR_LATER = frozenset({"in_transit", "delivered", "completed"})


@transaction.atomic
def status_push_create(*, organization_id: UUID, order_id: UUID, to_status: str, event_id: UUID) -> StatusPush | None:
    """The push an order's status change calls for, or None (not a platform order, not shipping,
    the platform already knows, or this event was handled before)."""
    if to_status != SHIPPED:
        return None
    link = PlatformOrderLink.objects.filter(organization_id=organization_id, order_id=order_id).first()
    if link is None or StatusPush.objects.filter(event_id=event_id).exists():
        return None
    if link.mapped_status in SHIPPED_OR_LATER:
        return None
    push = StatusPush.objects.create(
        organization_id=organization_id,
        link=link,
        event_id=event_id,
        status=to_status,
        tracking_number=link.tracking_number,
        carrier=link.carrier,
        next_attempt_at=timezone.now(),
    )
    push_id, organization_text = str(push.id), str(organization_id)

    def enqueue():
        from apps.integrations import tasks

        tasks.integrations_status_push.delay(push_id=push_id, organization_id=organization_text)

    transaction.on_commit(enqueue)
    return push


@transaction.atomic
def _claim(push_id: UUID, now: datetime) -> StatusPush | None:
    push = StatusPush.objects.select_for_update(skip_locked=True).select_related("link").filter(pk=push_id).first()
    if push is None or push.state != PushState.PENDING or (push.next_attempt_at and push.next_attempt_at > now):
        return None
    # Claimed: not due again before the schedule's first delay (a worker dying mid-send is retried then).
    push.next_attempt_at = now + settings.INTEGRATIONS["PUSH_RETRY_SCHEDULE"][0]
    push.attempts += 1
    push.save(update_fields=["next_attempt_at", "attempts"])
    return push


def status_push_send(*, push_id: UUID, organization_id: UUID, http=None) -> str:
    """Send one due push (outside a transaction: the platform answers between two short ones)."""
    now = timezone.now()
    with tenant_scope(organization_id):
        push = _claim(push_id, now)
        if push is None:
            return "skipped"
        configuration = push.link.configuration
    adapter = adapter_for(
        platform=configuration.platform,
        shop_id=configuration.shop_id,
        credentials=credentials_open(configuration.credentials_encrypted),
        http=http,
    )
    error = None
    try:
        adapter.update_order_status(
            external_id=push.link.external_id,
            status=push.status,
            tracking_number=push.tracking_number,
            carrier=push.carrier,
        )
    except PlatformError as failure:
        error = failure
    with tenant_scope(organization_id), transaction.atomic():
        return _record(push.id, error)


def _record(push_id: UUID, error: PlatformError | None) -> str:
    push = StatusPush.objects.select_for_update().get(pk=push_id)
    if error is None:
        push.state, push.sent_at, push.next_attempt_at, push.last_error = PushState.SENT, timezone.now(), None, ""
    else:
        schedule = settings.INTEGRATIONS["PUSH_RETRY_SCHEDULE"]
        push.last_error = f"{error.code}: {str(error)[:400]}"
        if isinstance(error, PlatformRejected) or push.attempts > len(schedule):
            push.state, push.next_attempt_at = PushState.FAILED, None
        else:
            push.next_attempt_at = timezone.now() + schedule[push.attempts - 1]
        logger.warning("integrations.push_failed", extra={"push_id": str(push.id), "error_code": error.code})
    push.save(update_fields=["state", "sent_at", "next_attempt_at", "last_error"])
    return push.state


def status_pushes_due(*, now: datetime | None = None) -> list[tuple[UUID, UUID]]:
    """(push id, organization id) of the pushes whose next attempt is due (bypass scope, beat)."""
    now = now or timezone.now()
    return list(
        StatusPush.objects.filter(state=PushState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", "organization_id")[: settings.INTEGRATIONS["DUE_BATCH"]]
    )
