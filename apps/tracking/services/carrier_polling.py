"""Carriers' tracking APIs: a carrier and its tracking number attached to a tracked shipment,
and the poll that reads what the carrier learned since last time and stores it as events.

The poll (`carrier_poll`, one beat-discovered shipment at a time, in the supplier's scope):
1. claims the shipment: if its poll is due, moves `poll_next_at` a lease ahead, so the next
   beat run does not poll it twice (a poll that dies is taken up again when the lease ends);
2. reads the carrier page by page from `poll_cursor`, outside any transaction (no row lock
   held while a carrier answers); each page is stored in a short transaction of its own,
   with the cursor after it, so what was read is never read again after a crash;
3. schedules the next poll: TRACKING["CARRIER_POLL_INTERVAL"] after a good one; after a
   failure, exponential backoff with jitter (capped), or the carrier's Retry-After on a 429.

`poll_failures` counts the failures in a row of one class: the carrier unreachable or rate
limiting (it may last, it passes: polling never stops for it), or the carrier refusing the
number or us (asking again may not mend it). TRACKING["CARRIER_POLL_MAX_REFUSALS"] refusals
in a row stop the polling: `poll_stopped_at` is set, `poll_next_at` cleared, and a
`no_signal` alert (condition "carrier_polling") tells both parties; attaching the number
again starts over.

A carrier event is stored once: its id is in the row's metadata (`carrier_event_id`), the
events already stored are skipped, and a unique index (migration 0003) holds whatever else.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models.fields.json import KT
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import tenant_scope
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.visibility import visible_rows
from apps.tracking.carriers import carrier_codes, carrier_for
from apps.tracking.carriers.base import (
    CarrierError,
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
    Page,
    TrackingNumberUnknown,
)
from apps.tracking.models import AlertType, EventSource, PollError, Severity, TrackedShipment, TrackingEvent
from apps.tracking.services.alerts import SYSTEM, alert_raise, alert_resolve_condition
from apps.tracking.services.ingest import events_record

logger = logging.getLogger(__name__)

POLLING_CONDITION = "carrier_polling"
TRACKING_NUMBER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
TRANSIENT_ERRORS = frozenset({PollError.UNAVAILABLE, PollError.RATE_LIMITED})
_jitter = random.SystemRandom()


# --- Attaching a carrier -------------------------------------------------------------------


@transaction.atomic
def carrier_tracking_attach(
    *, actor: Actor, order_id: UUID, carrier_code: str, external_tracking_number: str
) -> TrackedShipment:
    """Track the order's shipment through a carrier's API: its code and its tracking number;
    both empty detach it. The supplier's side only. Polling starts with the next beat run,
    from the start of the number's events; the same carrier and number again only restart a
    polling that had stopped."""
    shipment = visible_rows(
        TrackedShipment.objects.select_for_update().filter(order_id=order_id), actor.organization_id
    ).first()
    if shipment is None:
        raise NotFound("Tracked shipment not found.")
    if actor.organization_id != shipment.supplier_organization_id:
        raise PermissionDenied("Only the supplier of the order attaches a carrier's tracking.")
    carrier_code, number = _checked_carrier(carrier_code, external_tracking_number)
    if not shipment.is_active:
        raise DomainError("The shipment's tracking has ended.", details={"shipment": str(shipment.id)})

    old = {"carrier_code": shipment.carrier_code, "external_tracking_number": shipment.external_tracking_number}
    if (carrier_code, number) != (shipment.carrier_code, shipment.external_tracking_number):
        shipment.carrier_code, shipment.external_tracking_number = carrier_code, number
        shipment.poll_cursor = ""
    shipment.poll_next_at = timezone.now() if number else None
    _clear_failures(shipment)
    shipment.poll_stopped_at = None
    shipment.save(
        update_fields=[
            "carrier_code",
            "external_tracking_number",
            "poll_cursor",
            "poll_next_at",
            "poll_failures",
            "poll_error_code",
            "poll_error",
            "poll_stopped_at",
            "updated_at",
        ]
    )
    alert_resolve_condition(
        shipment=shipment, condition_key=POLLING_CONDITION, reason="Carrier tracking attached again"
    )
    audit_record(
        action="tracking.carrier_attached" if number else "tracking.carrier_detached",
        resource_type="tracked_shipment",
        resource_id=shipment.id,
        old_values=old,
        new_values={"carrier_code": carrier_code, "external_tracking_number": number},
        organization_id=actor.organization_id,
        actor=actor,
    )
    return shipment


def _checked_carrier(carrier_code: str, number: str) -> tuple[str, str]:
    carrier_code, number = (carrier_code or "").strip(), (number or "").strip()
    if not carrier_code and not number:
        return "", ""
    if carrier_code not in carrier_codes():
        raise ValidationFailed("Unknown carrier.", details={"carrier_code": carrier_code, "known": carrier_codes()})
    if not TRACKING_NUMBER_PATTERN.fullmatch(number):
        raise ValidationFailed(
            "A tracking number is 1 to 100 letters, digits, - or _.",
            details={"external_tracking_number": number[:120]},
        )
    return carrier_code, number


# --- Finding due polls (beat) ---------------------------------------------------------------


def carrier_polls_due(*, now: datetime | None = None, limit: int | None = None) -> list[tuple[UUID, UUID]]:
    """(shipment id, supplier organization id) of the shipments whose poll is due, oldest due
    first. Called under the bypass scope by the beat job; reads ids only."""
    now = now or timezone.now()
    limit = limit or settings.TRACKING["CARRIER_POLL_BATCH"]
    # The partial index tracked_poll_due_idx serves exactly this predicate and order.
    return list(
        TrackedShipment.objects.filter(is_active=True, poll_next_at__lte=now)
        .exclude(external_tracking_number="")
        .order_by("poll_next_at")
        .values_list("id", "supplier_organization_id")[:limit]
    )


# --- The poll ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What a poll works from, read when it claimed the shipment."""

    shipment_id: UUID
    carrier_code: str
    tracking_number: str
    cursor: str


@dataclass
class PollOutcome:
    """What one poll did. status: skipped (not due, or claimed elsewhere, or changed while
    polled), done (read to the end), more (stopped at the page cap; due again at once),
    failed (the next poll is scheduled), stopped (polling gave up)."""

    status: str
    pages: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    error_code: str = ""


def carrier_poll(*, shipment_id: UUID, organization_id: UUID, now: datetime | None = None) -> PollOutcome:
    """Read the carrier's new events of the shipment and store them, acting for
    `organization_id` (the supplier's; a shipment it is no party of is not seen, and skipped).

    Call it outside a transaction (its task is a non-atomic TenantTask): it opens the
    organization's scope once per short transaction, none held while the carrier answers."""
    with tenant_scope(organization_id):
        claim = _claim(shipment_id, now=now or timezone.now())
    if claim is None:
        return PollOutcome(status="skipped")
    outcome = PollOutcome(status="done")
    try:
        carrier = carrier_for(claim.carrier_code)
        cursor = claim.cursor
        max_pages = settings.TRACKING["CARRIER_POLL_MAX_PAGES"]
        while True:
            page = carrier.fetch_events(tracking_number=claim.tracking_number, cursor=cursor)
            outcome.pages += 1
            last = not page.has_more or outcome.pages >= max_pages
            with tenant_scope(organization_id):
                stored = _page_store(claim, page, cursor=cursor, last=last)
            if stored is None:
                outcome.status = "skipped"
                return outcome
            outcome.stored += stored[0]
            outcome.duplicates += stored[1]
            outcome.rejected += stored[2]
            if last:
                outcome.status = "more" if page.has_more else "done"
                break
            cursor = page.next_cursor
    except CarrierError as error:
        with tenant_scope(organization_id):
            outcome.status, outcome.error_code = _failure_record(claim, error)
    logger.info(
        "tracking.carrier_polled",
        extra={
            "shipment_id": str(shipment_id),
            "carrier_code": claim.carrier_code,
            "status": outcome.status,
            "pages": outcome.pages,
            "stored": outcome.stored,
            "duplicates": outcome.duplicates,
            "rejected": outcome.rejected,
            "error_code": outcome.error_code,
        },
    )
    return outcome


def _polled(shipment_id: UUID) -> TrackedShipment | None:
    """The shipment, locked, if it is still polled (active, with a carrier's number)."""
    return (
        TrackedShipment.objects.select_for_update()
        .filter(id=shipment_id, is_active=True)
        .exclude(external_tracking_number="")
        .first()
    )


def _claim(shipment_id: UUID, *, now: datetime) -> Claim | None:
    shipment = _polled(shipment_id)
    if shipment is None or shipment.poll_next_at is None or shipment.poll_next_at > now:
        return None
    shipment.poll_next_at = now + settings.TRACKING["CARRIER_POLL_LEASE"]
    shipment.save(update_fields=["poll_next_at", "updated_at"])
    return Claim(shipment.id, shipment.carrier_code, shipment.external_tracking_number, shipment.poll_cursor)


def _current(claim: Claim, cursor: str) -> TrackedShipment | None:
    """The locked shipment if it is still the claimed poll's: same carrier, number and cursor
    (a number attached again meanwhile starts a poll of its own)."""
    shipment = _polled(claim.shipment_id)
    if shipment is None or (shipment.carrier_code, shipment.external_tracking_number, shipment.poll_cursor) != (
        claim.carrier_code,
        claim.tracking_number,
        cursor,
    ):
        return None
    return shipment


def _page_store(claim: Claim, page: Page, *, cursor: str, last: bool) -> tuple[int, int, int] | None:
    """Store a page's new events and move the cursor past it; after the last page, schedule
    the next poll. (stored, duplicates, rejected), or None when the shipment changed."""
    shipment = _current(claim, cursor)
    if shipment is None:
        return None
    rows, duplicates = _new_rows(shipment, page, carrier_code=claim.carrier_code)
    stored = rejected = 0
    if rows:
        result = events_record(shipment=shipment, rows=rows, source=EventSource.CARRIER_API, actor=SYSTEM)
        stored, rejected = len(result.stored), len(result.rejected)
        duplicates += result.duplicates
        if rejected:
            logger.warning(
                "tracking.carrier_events_rejected",
                extra={
                    "shipment_id": str(shipment.id),
                    "carrier_code": claim.carrier_code,
                    "rejected": rejected,
                    "first_errors": result.rejected[0]["errors"],
                },
            )
    shipment.poll_cursor = page.next_cursor
    fields = ["poll_cursor", "updated_at"]
    if last:
        now = timezone.now()
        # Stopped at the page cap: the rest is there already, so the poll is due again at once.
        shipment.poll_next_at = now if page.has_more else now + settings.TRACKING["CARRIER_POLL_INTERVAL"]
        _clear_failures(shipment)
        fields += ["poll_next_at", "poll_failures", "poll_error_code", "poll_error"]
    shipment.save(update_fields=fields)
    return stored, duplicates, rejected


def _new_rows(shipment: TrackedShipment, page: Page, *, carrier_code: str) -> tuple[list[dict], int]:
    """The page's events not stored yet, as ingest rows; and how many were already there."""
    unique = {event.carrier_event_id: event for event in page.events}
    if not unique:
        return [], 0
    # Not bounded by the page's times: a carrier that corrects an event's time sends the same
    # id, and it stays one event (the unique index, which must hold the time, would not see it).
    known = set(
        TrackingEvent.objects.filter(shipment_id=shipment.id, source=EventSource.CARRIER_API)
        .annotate(carrier_event_id=KT("metadata__carrier_event_id"))
        .filter(carrier_event_id__in=list(unique))
        .values_list("carrier_event_id", flat=True)
    )
    rows = [event.as_row(carrier_code=carrier_code) for key, event in unique.items() if key not in known]
    return rows, len(page.events) - len(rows)


def _error_code(error: CarrierError) -> str:
    if isinstance(error, CarrierRateLimited):
        return PollError.RATE_LIMITED
    if isinstance(error, CarrierUnavailable):
        return PollError.UNAVAILABLE
    if isinstance(error, TrackingNumberUnknown):
        return PollError.UNKNOWN_NUMBER
    if isinstance(error, CarrierRejected):
        return PollError.REJECTED
    return PollError.UNAVAILABLE


def backoff_delay(failures: int) -> timedelta:
    """The wait after `failures` failed polls in a row: BASE doubled per failure up to MAX,
    of which a random part (between half and all of it), so that the shipments of one carrier's
    outage do not all come back in the same minute."""
    base, cap = settings.TRACKING["CARRIER_POLL_BACKOFF_BASE"], settings.TRACKING["CARRIER_POLL_BACKOFF_MAX"]
    delay = min(cap, base * 2 ** min(max(failures, 1) - 1, 30))
    return delay * _jitter.uniform(0.5, 1.0)


def _failure_record(claim: Claim, error: CarrierError) -> tuple[str, str]:
    """Count the failure and schedule the next poll, or stop polling; (status, error code)."""
    code = _error_code(error)
    shipment = _current(claim, claim.cursor) or _polled(claim.shipment_id)
    if shipment is None or (shipment.carrier_code, shipment.external_tracking_number) != (
        claim.carrier_code,
        claim.tracking_number,
    ):
        return "skipped", code
    transient = code in TRANSIENT_ERRORS
    same_class = bool(shipment.poll_error_code) and (shipment.poll_error_code in TRANSIENT_ERRORS) == transient
    shipment.poll_failures = shipment.poll_failures + 1 if same_class else 1
    shipment.poll_error_code, shipment.poll_error = code, str(error)[:300]
    now = timezone.now()
    retry_after = getattr(error, "retry_after", None)
    status = "failed"
    if not transient and shipment.poll_failures >= settings.TRACKING["CARRIER_POLL_MAX_REFUSALS"]:
        shipment.poll_next_at, shipment.poll_stopped_at = None, now
        status = "stopped"
    elif retry_after is not None:
        # The carrier said when: neither sooner (it would refuse again) nor jittered.
        shipment.poll_next_at = now + min(
            timedelta(seconds=retry_after), settings.TRACKING["CARRIER_POLL_RETRY_AFTER_MAX"]
        )
    else:
        shipment.poll_next_at = now + backoff_delay(shipment.poll_failures)
    shipment.save(
        update_fields=[
            "poll_failures",
            "poll_error_code",
            "poll_error",
            "poll_next_at",
            "poll_stopped_at",
            "updated_at",
        ]
    )
    log = logger.warning if status == "stopped" else logger.info
    log(
        "tracking.carrier_polling_stopped" if status == "stopped" else "tracking.carrier_poll_failed",
        extra={
            "shipment_id": str(shipment.id),
            "carrier_code": claim.carrier_code,
            "error_code": code,
            "failures": shipment.poll_failures,
            "next_at": shipment.poll_next_at.isoformat() if shipment.poll_next_at else None,
        },
    )
    if status == "stopped":
        alert_raise(
            shipment=shipment,
            alert_type=AlertType.NO_SIGNAL,
            severity=Severity.MEDIUM,
            message=f"The carrier's tracking of {claim.tracking_number} stopped: {shipment.poll_error}",
            condition_key=POLLING_CONDITION,
            details={
                "carrier_code": claim.carrier_code,
                "external_tracking_number": claim.tracking_number,
                "error_code": code,
                "failures": shipment.poll_failures,
            },
        )
    return status, code


def _clear_failures(shipment: TrackedShipment) -> None:
    shipment.poll_failures, shipment.poll_error_code, shipment.poll_error = 0, "", ""
