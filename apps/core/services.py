"""Writes of the platform core: publishing and relaying domain events (the outbox)."""

from __future__ import annotations

import logging
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.context import current_user_id, request_id_var, system_scope, tenant_scope
from apps.core.events import DomainEvent, handlers_for
from apps.core.models import NumberSequence, OutboxEvent

logger = logging.getLogger(__name__)


def outbox_publish(event: DomainEvent) -> OutboxEvent:
    """Write the event in the caller's transaction; after commit, ask a worker to relay it."""
    row = OutboxEvent.objects.create(
        organization_id=event.organization_id,
        event_type=event.event_type,
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id(),
        payload=event.payload(),
        actor_id=current_user_id(),
        request_id=request_id_var.get() or "",
    )
    organization_id = str(event.organization_id) if event.organization_id else None
    event_id = str(row.id)

    def enqueue_relay():
        from apps.core.tasks import outbox_relay

        try:
            outbox_relay.delay(organization_id=organization_id, event_ids=[event_id])
        except Exception:  # the beat safety net relays it later; the event is safe in PostgreSQL
            logger.warning("outbox.enqueue_failed", extra={"event_id": event_id})

    transaction.on_commit(enqueue_relay)
    return row


def outbox_publish_many(events: list[DomainEvent]) -> list[OutboxEvent]:
    """Write many events in one statement of the caller's transaction (an import of a page of
    orders); after commit, one relay task per organization asks a worker to relay them."""
    if not events:
        return []
    actor_id, request_id = current_user_id(), request_id_var.get() or ""
    rows = OutboxEvent.objects.bulk_create(
        OutboxEvent(
            organization_id=event.organization_id,
            event_type=event.event_type,
            aggregate_type=event.aggregate_type,
            aggregate_id=event.aggregate_id(),
            payload=event.payload(),
            actor_id=actor_id,
            request_id=request_id,
        )
        for event in events
    )
    by_organization: dict[str | None, list[str]] = {}
    for row in rows:
        key = str(row.organization_id) if row.organization_id else None
        by_organization.setdefault(key, []).append(str(row.id))

    def enqueue_relays():
        from apps.core.tasks import outbox_relay

        for organization_id, event_ids in by_organization.items():
            try:
                outbox_relay.delay(organization_id=organization_id, event_ids=event_ids)
            except Exception:  # the beat safety net relays them later; the events are safe in PostgreSQL
                logger.warning("outbox.enqueue_failed", extra={"events": len(event_ids)})

    transaction.on_commit(enqueue_relays)
    return rows


def _deliver_one(event) -> str | None:
    """Run every handler of the event; the first failure, described, or None."""
    for handler_name, handler in handlers_for(event.event_type):
        try:
            handler(event)
        except Exception as exc:  # a consumer's failure must not lose the event: retry later
            logger.warning("outbox.delivery_failed", extra={"event_id": str(event.id), "handler": handler_name})
            return f"{handler_name}: {exc.__class__.__name__}: {exc}"[:2000]
    return None


def _deliver(events) -> int:
    delivered = 0
    for event in events:
        event.attempts += 1
        failure = _deliver_one(event)
        if failure:
            event.last_error = failure
            event.save(update_fields=["attempts", "last_error"])
            continue
        event.published_at = timezone.now()
        event.save(update_fields=["published_at", "attempts"])
        delivered += 1
    return delivered


def outbox_relay(*, organization_id: UUID | None, event_ids: list[UUID] | None = None, limit: int = 200) -> int:
    """Deliver unpublished events of one organization (or the platform's own, when None).

    Rows are locked with SKIP LOCKED so that two relays never deliver the same event
    at the same time. Returns how many were delivered.

    Opens its own scope (the exception to "the entry point opens it"): the platform's own
    events belong to no organization, so only the bypass scope sees them, and the same relay
    serves both from the on-commit hook, the beat and the tests.
    """
    scope = tenant_scope(organization_id) if organization_id else system_scope(reason="outbox.relay_platform_events")
    with scope:
        pending = OutboxEvent.objects.filter(published_at__isnull=True)
        pending = (
            pending.filter(organization_id=organization_id)
            if organization_id
            else pending.filter(organization__isnull=True)
        )
        if event_ids:
            pending = pending.filter(id__in=event_ids)
        events = list(pending.select_for_update(skip_locked=True).order_by("created_at")[:limit])
        return _deliver(events)


def outbox_pending_organizations(*, older_than) -> list[UUID | None]:
    """Organizations that have events left unpublished since before `older_than` (safety net).

    Finding them needs to see every tenant: the beat task calls it in its bypass scope, and
    each organization's events are then relayed inside that organization's own scope."""
    cutoff = timezone.now() - older_than
    return list(
        OutboxEvent.objects.filter(published_at__isnull=True, created_at__lt=cutoff)
        .values_list("organization_id", flat=True)
        .distinct()
    )


def sequence_next(*, organization_id: UUID, name: str, year: int) -> int:
    """The organization's next value of its counter `name` for `year`, from 1.

    Locks the organization's counter row until the caller's transaction ends, so two
    concurrent callers never get the same value and an aborted one leaves no gap. Take it as
    late in the transaction as the use case allows: concurrent callers queue on the row."""
    sequence, _ = NumberSequence.objects.select_for_update().get_or_create(
        organization_id=organization_id, name=name, year=year
    )
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def sequence_take(*, organization_id: UUID, name: str, year: int, count: int) -> range:
    """The organization's next `count` values of its counter `name` for `year`, in one locked
    update (the same lock as `sequence_next`): a page of imported orders numbers itself at once."""
    sequence, _ = NumberSequence.objects.select_for_update().get_or_create(
        organization_id=organization_id, name=name, year=year
    )
    first = sequence.last_value + 1
    sequence.last_value += count
    sequence.save(update_fields=["last_value"])
    return range(first, sequence.last_value + 1)


def numbers_take(*, organization_id: UUID, name: str, prefix: str, count: int) -> list[str]:
    """`count` consecutive numbers PREFIX-YYYY-NNNNNN (see `number_next`)."""
    year = timezone.now().year
    values = sequence_take(organization_id=organization_id, name=name, year=year, count=count)
    return [f"{prefix}-{year}-{value:06d}" for value in values]


def number_next(*, organization_id: UUID, name: str, prefix: str) -> str:
    """The organization's next number for `name` this year, as PREFIX-YYYY-000001 (no gaps,
    never twice: `sequence_next`)."""
    year = timezone.now().year
    value = sequence_next(organization_id=organization_id, name=name, year=year)
    return f"{prefix}-{year}-{value:06d}"


# --- Stored files no row references (Celery beat) -------------------------------------------


def storage_orphans_sweep(*, grace=None, now=None) -> dict:
    """Delete stored files that no row references and that are older than the grace period.

    A service writes its file before its row commits, so a rollback leaves the file behind.
    A file younger than `grace` (settings.STORAGE_ORPHAN_GRACE, an hour) may belong to a
    transaction still running and is kept; so is every file a row names, whatever its age.
    The storage is listed before the rows are read: a row committed in between still counts.
    Not one transaction (deleting a file cannot be rolled back), so nothing is locked.
    Opens the bypass scope itself, for the one read of which files rows of every
    organization reference: the files belong to no single organization.
    """
    from django.conf import settings

    from apps.core.stored_files import file_fields, referenced_names, stored_names

    grace = settings.STORAGE_ORPHAN_GRACE if grace is None else grace
    cutoff = (now or timezone.now()) - grace
    storages = {field.storage for _, field in file_fields()}
    listed = {storage: list(stored_names(storage)) for storage in storages}
    with system_scope(reason="storage sweep: which files rows of every organization reference"):
        referenced = referenced_names()
    counts = {"listed": 0, "referenced": 0, "young": 0, "deleted": 0}
    for storage, names in listed.items():
        counts["listed"] += len(names)
        for name in names:
            if name in referenced.get(storage, ()):
                counts["referenced"] += 1
                continue
            try:
                if storage.get_modified_time(name) > cutoff:
                    counts["young"] += 1
                    continue
                storage.delete(name)
            except FileNotFoundError:
                continue  # removed meanwhile (by its service, or another sweep)
            counts["deleted"] += 1
            logger.info("storage.orphan_deleted", extra={"file_name": name})
    logger.info("storage.sweep_done", extra=counts)
    return counts
