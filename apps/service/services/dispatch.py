"""Live offers of URGENT and HIGH service orders to RUSHING experts, in rounds.

- A round offers the order to the next OFFER_BATCH experts among its matching results who were
  never offered it, whom the customer did not dismiss, and who are RUSHING now (with their paid
  membership still running), best rank first. Their results become OFFERED (with the round and
  when); the order records the round and when it ends (now + OFFER_WINDOW_SECONDS); the event
  `service_order.offered` names their users, and each is told by the `service.offer`
  notification, which their live feed (`user.<id>`) receives as it is stored.
- The first expert to accept gets the order, exactly once (services/work.py): the others'
  offers become TAKEN. A declined offer is DECLINED.
- A round that ends with nobody accepting: its open offers become EXPIRED
  (`service_order.offer_closed` tells their users) and the next round goes out, until
  OFFER_MAX_ROUNDS; then the order waits for the customer to assign it by hand. A task
  scheduled for each round's end does it for that order; a beat job every 30 seconds finds the
  organizations with rounds due (all-tenants scope, ids only) and expires each organization's
  own in its scope (a lost or early task, a worker that was down).

Everything here runs in the customer organization's scope, on the order locked by the caller:
the results are its rows, the experts' profiles are published.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.services import outbox_publish
from apps.service.events import ServiceOrderOffered
from apps.service.models import (
    ExpertPassport,
    MatchingResult,
    MatchSourceType,
    MatchStatus,
    OfferStatus,
    ServiceOrder,
    ServiceOrderStatus,
    Urgency,
    WorkStatus,
)
from apps.service.services.common import offers_close, order_event_fields

logger = logging.getLogger(__name__)

OFFERED_URGENCIES = (Urgency.URGENT, Urgency.HIGH)
# Orders one task expires at most (the rest wait for the next run, 30 seconds later).
EXPIRE_BATCH = 200


def _next_experts(order: ServiceOrder, *, now: datetime, batch: int) -> list[MatchingResult]:
    """The best-ranked results never offered nor dismissed whose expert is RUSHING now."""
    waiting = list(
        MatchingResult.objects.filter(
            organization_id=order.organization_id,
            source_type=MatchSourceType.SERVICE_ORDER,
            source_id=order.id,
            offer_status=OfferStatus.NONE,
        )
        .exclude(status=MatchStatus.DISMISSED)
        .order_by("rank", "id")
    )
    if not waiting:
        return []
    rushing = set(
        ExpertPassport.objects.filter(
            id__in=[row.target_id for row in waiting],
            work_status=WorkStatus.RUSHING,
            membership_expires_at__gt=now,
        ).values_list("id", flat=True)
    )
    return [row for row in waiting if row.target_id in rushing and row.target_user_id][:batch]


def _round_is_open(order: ServiceOrder) -> bool:
    """A round is open while it has not ended and some of its offers are still unanswered (a
    round every expert declined is over: the next may go out at once)."""
    return (
        order.offers_expire_at is not None
        and MatchingResult.objects.filter(
            organization_id=order.organization_id, source_id=order.id, offer_status=OfferStatus.OFFERED
        ).exists()
    )


def offers_round_open(order: ServiceOrder, *, actor: Actor, now: datetime | None = None) -> list[MatchingResult]:
    """Offer a locked PENDING URGENT or HIGH order to its next round of RUSHING experts, when no
    round is open (one has ended, or all its offers were answered) and rounds remain; the
    results offered ([] when none: no round is counted).
    Publishes `service_order.offered` (the offered experts' user ids)."""
    service = settings.SERVICE
    if (
        order.status != ServiceOrderStatus.PENDING
        or order.urgency not in OFFERED_URGENCIES
        or order.offer_round >= service["OFFER_MAX_ROUNDS"]
        or _round_is_open(order)
    ):
        return []
    now = now or timezone.now()
    chosen = _next_experts(order, now=now, batch=service["OFFER_BATCH"])
    if not chosen:
        return []
    offer_round = order.offer_round + 1
    expires_at = now + timedelta(seconds=service["OFFER_WINDOW_SECONDS"])
    MatchingResult.objects.filter(id__in=[row.id for row in chosen]).update(
        offer_status=OfferStatus.OFFERED, offer_round=offer_round, offered_at=now, updated_at=now
    )
    for row in chosen:
        row.offer_status, row.offer_round, row.offered_at = OfferStatus.OFFERED, offer_round, now
    order.offer_round = offer_round
    order.offers_expire_at = expires_at
    order.save(update_fields=["offer_round", "offers_expire_at", "updated_at"])
    outbox_publish(
        ServiceOrderOffered(
            **order_event_fields(order, organization_id=actor.organization_id),
            urgency=order.urgency,
            offer_round=offer_round,
            user_ids=[str(row.target_user_id) for row in chosen],
            expires_at=expires_at.isoformat(),
        )
    )
    _expiry_scheduled(order, expires_at)
    logger.info(
        "service.offers_opened",
        extra={"service_order_id": str(order.id), "offer_round": offer_round, "experts": len(chosen)},
    )
    return chosen


def _expiry_scheduled(order: ServiceOrder, expires_at: datetime) -> None:
    """After commit, a task for the round's end (a second after it: the round must be over when
    it looks). Lost, it is the beat job's to do."""
    organization_id, service_order_id = str(order.organization_id), str(order.id)

    def enqueue() -> None:
        from apps.service.tasks import offers_expire_of

        countdown = max(0.0, (expires_at - timezone.now()).total_seconds()) + 1
        try:
            offers_expire_of.apply_async(
                kwargs={"organization_id": organization_id, "service_order_id": service_order_id},
                countdown=countdown,
            )
        except Exception:  # the beat job expires it instead
            logger.warning("service.offer_expiry_enqueue_failed", extra={"service_order_id": service_order_id})

    transaction.on_commit(enqueue)


def offer_rounds_due_organizations(*, now: datetime | None = None) -> list[UUID]:
    """The organizations with offer rounds past their end (the beat job's look, in its
    all-tenants scope; the partial index on `offers_expire_at` serves it)."""
    now = now or timezone.now()
    return list(
        ServiceOrder.objects.filter(status=ServiceOrderStatus.PENDING, offers_expire_at__lte=now)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )


@transaction.atomic
def service_order_offers_expire(
    *, actor: Actor, service_order_id: UUID | None = None, now: datetime | None = None
) -> int:
    """End the actor's organization's offer rounds that are past their end (or that of one
    order): their open offers become EXPIRED and the next round goes out while rounds remain.
    Orders another transaction holds are skipped (the next run takes them). Returns how many
    rounds ended."""
    now = now or timezone.now()
    due = ServiceOrder.objects.select_for_update(skip_locked=True).filter(
        organization_id=actor.organization_id, status=ServiceOrderStatus.PENDING, offers_expire_at__lte=now
    )
    if service_order_id is not None:
        due = due.filter(id=service_order_id)
    ended = 0
    for order in due.order_by("offers_expire_at", "id")[:EXPIRE_BATCH]:
        offers_close(order, outcome=OfferStatus.EXPIRED, actor=actor)
        if order.offers_expire_at is not None:  # every offer of the round was declined: none to close
            order.offers_expire_at = None
            order.save(update_fields=["offers_expire_at", "updated_at"])
        offers_round_open(order, actor=actor, now=now)
        ended += 1
    return ended
