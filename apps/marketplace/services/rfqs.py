"""Writes of RFQs: create, edit, publish, cancel, close (staff) and expire (beat)."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.accounts.guards import require_verified_email
from apps.core.audit import audit_record
from apps.core.context import current_organization_id
from apps.core.errors import NotFound, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.money import minor_units_error
from apps.core.services import number_next, outbox_publish
from apps.core.updates import model_changes, model_update
from apps.marketplace import events
from apps.marketplace.locks import lock_rfq
from apps.marketplace.models import Offer, OfferStatus, Rfq, RfqAudience, RfqStatus
from apps.marketplace.services.offer_status import offers_close_live
from apps.marketplace.transitions import OWNER, RFQ, STAFF, SYSTEM, require_open
from apps.tenancy.roles import Actor
from apps.tenancy.selectors import organization_names

logger = logging.getLogger(__name__)

RFQ_FIELDS = (
    "title",
    "description",
    "audience",
    "invited_organization_ids",
    "service_type",
    "weight_kg",
    "volume_cbm",
    "length_cm",
    "width_cm",
    "height_cm",
    "pallet_count",
    "cargo_type",
    "hazmat_class",
    "temperature_min_c",
    "temperature_max_c",
    "declared_value",
    "currency",
    "segments",
    "deadline",
)
# What an open RFQ may still change: carriers may already be pricing the rest.
OPEN_RFQ_FIELDS = ("description", "deadline", "invited_organization_ids")


def rfq_audience(rfq: Rfq) -> list[str]:
    """Who the live feed tells about the RFQ: its owner, and the invited carriers once it is open."""
    audience = {str(rfq.organization_id)}
    if rfq.status != RfqStatus.DRAFT and rfq.audience == RfqAudience.INVITED:
        audience.update(str(organization_id) for organization_id in rfq.invited_organization_ids)
    if rfq.awarded_organization_id:
        audience.add(str(rfq.awarded_organization_id))
    return sorted(audience)


def rfq_check(values: dict, *, now: datetime) -> None:
    """400 naming each field of an RFQ that contradicts another or the clock."""
    errors: dict[str, list[str]] = {}
    low, high = values.get("temperature_min_c"), values.get("temperature_max_c")
    if low is not None and high is not None and low > high:
        errors["temperature_min_c"] = [f"Must be at most temperature_max_c ({high}); it is {low}."]
    deadline = values.get("deadline")
    if deadline is not None and deadline <= now:
        errors["deadline"] = ["Must be in the future."]
    if not values.get("segments"):
        errors["segments"] = ["An RFQ needs at least one segment."]
    if values.get("audience") == RfqAudience.INVITED and not values.get("invited_organization_ids"):
        errors["invited_organization_ids"] = ["An RFQ for invited carriers only must invite at least one."]
    if values.get("declared_value") is not None and values.get("currency"):
        money_error = minor_units_error(values["declared_value"], values["currency"])
        if money_error:
            errors["declared_value"] = [money_error]
    if errors:
        raise ValidationFailed("The RFQ has contradicting fields.", details=errors)


def _event_fields(rfq: Rfq) -> dict:
    return {
        "organization_id": rfq.organization_id,
        "rfq_id": str(rfq.id),
        "number": rfq.number,
        "status": rfq.status,
        "party_organization_ids": rfq_audience(rfq),
    }


def rfq_get_for_update(*, organization_id: UUID, rfq_id: UUID) -> Rfq:
    """The organization's own RFQ, under its lock (apps.marketplace.locks); 404 otherwise."""
    lock_rfq(rfq_id)
    rfq = Rfq.objects.filter(organization_id=organization_id, pk=rfq_id).first()
    if rfq is None:
        raise NotFound("RFQ not found.")
    return rfq


@transaction.atomic
def rfq_create(*, actor: Actor, data: dict) -> Rfq:
    """A draft RFQ of the actor's organization, numbered RFQ-YYYY-NNNNNN; rfq.created."""
    values = {field: data[field] for field in RFQ_FIELDS if field in data}
    rfq_check(values, now=timezone.now())
    name = organization_names(organization_ids=[actor.organization_id])[actor.organization_id]
    rfq = Rfq.objects.create(
        organization_id=actor.organization_id,
        organization_name=name,
        number=number_next(organization_id=actor.organization_id, name="rfq", prefix="RFQ"),
        created_by_id=actor.user_id,
        **values,
    )
    history_record(rfq, transitions=RFQ, from_status="", to_status=rfq.status, actor=actor)
    audit_record(
        action="rfq.created",
        resource_type="rfq",
        resource_id=rfq.id,
        new_values={"number": rfq.number, "title": rfq.title},
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
    )
    outbox_publish(events.RfqCreated(**_event_fields(rfq)))
    return rfq


@transaction.atomic
def rfq_update(*, actor: Actor, rfq_id: UUID, data: dict) -> Rfq:
    """Edit a draft RFQ; an open one may only extend its deadline, its description and invitations."""
    rfq = rfq_get_for_update(organization_id=actor.organization_id, rfq_id=rfq_id)
    if rfq.status not in (RfqStatus.DRAFT, RfqStatus.OPEN):
        require_open(rfq.status, number=rfq.number)
    changes = model_changes(instance=rfq, data=data, fields=RFQ_FIELDS)
    if rfq.status == RfqStatus.OPEN:
        frozen = sorted(set(changes) - set(OPEN_RFQ_FIELDS))
        if frozen:
            raise ValidationFailed(
                "An open RFQ may only change its description, extend its deadline or invite more carriers.",
                details={field: ["Cannot change once the RFQ is open."] for field in frozen},
            )
        if "deadline" in changes and changes["deadline"] < rfq.deadline:
            raise ValidationFailed(
                "An open RFQ's deadline can only move later.", details={"deadline": ["Cannot be brought forward."]}
            )
        removed = set(rfq.invited_organization_ids) - set(changes.get("invited_organization_ids", ()))
        if "invited_organization_ids" in changes and removed:
            raise ValidationFailed(
                "Invited carriers of an open RFQ cannot be uninvited.",
                details={"invited_organization_ids": [f"Still needed: {', '.join(sorted(map(str, removed)))}."]},
            )
    rfq_check({field: getattr(rfq, field) for field in RFQ_FIELDS} | changes, now=timezone.now())
    rfq, _ = model_update(
        instance=rfq,
        data=changes,
        fields=RFQ_FIELDS,
        actor=actor,
        resource_type="rfq",
        event=lambda saved, changed: events.RfqUpdated(**_event_fields(saved), changed=sorted(changed)),
    )
    return rfq


@transaction.atomic
def rfq_publish(*, actor: Actor, rfq_id: UUID) -> Rfq:
    """Open a draft RFQ to carriers (every one, or the invited) until its deadline."""
    rfq = rfq_get_for_update(organization_id=actor.organization_id, rfq_id=rfq_id)
    RFQ.check(rfq.status, RfqStatus.OPEN, who=OWNER, subject=rfq)
    rfq_check({field: getattr(rfq, field) for field in RFQ_FIELDS}, now=timezone.now())
    require_verified_email(user_id=actor.user_id, action="rfq.publish")  # other tenants will see it
    rfq.published_at = timezone.now()
    move(
        rfq,
        RfqStatus.OPEN,
        transitions=RFQ,
        actor=actor,
        who=OWNER,
        save=["published_at", "updated_at"],
        audit={"action": "rfq.published", "resource_type": "rfq", "organization_id": actor.organization_id},
        event=lambda: events.RfqUpdated(**_event_fields(rfq), changed=["status"]),
    )
    return rfq


def _close(rfq: Rfq, *, status: str, who: str, actor: Actor, reason: str) -> Rfq:
    """Move a locked RFQ to a final status other than awarded, closing its live offers."""
    previous = rfq.status
    rfq.closed_at = timezone.now()
    rfq.close_reason = reason
    move(
        rfq,
        status,
        transitions=RFQ,
        actor=actor,
        who=who,
        reason=reason,
        save=["closed_at", "close_reason", "updated_at"],
    )
    # An expired RFQ's offers expire with it; otherwise they are rejected with the RFQ's reason.
    offer_status = OfferStatus.EXPIRED if status == RfqStatus.EXPIRED else OfferStatus.REJECTED
    offers_close_live(rfq=rfq, status=offer_status, who=who, actor=actor, reason=reason)
    audit_record(
        action=f"rfq.{status}",
        resource_type="rfq",
        resource_id=rfq.id,
        old_values={"status": previous},
        new_values={"status": status, "reason": reason},
        organization_id=rfq.organization_id,
        actor_id=actor.user_id,
    )
    outbox_publish(events.RfqClosed(**_event_fields(rfq), reason=reason))
    return rfq


@transaction.atomic
def rfq_cancel(*, actor: Actor, rfq_id: UUID, reason: str) -> Rfq:
    """The owner calls the RFQ off (draft or open); live offers are rejected."""
    if not reason.strip():
        raise ValidationFailed("Say why the RFQ is cancelled.", details={"reason": ["Required."]})
    rfq = rfq_get_for_update(organization_id=actor.organization_id, rfq_id=rfq_id)
    return _close(rfq, status=RfqStatus.CANCELLED, who=OWNER, actor=actor, reason=reason.strip())


@transaction.atomic
def rfq_close_by_staff(*, actor: Actor, rfq_id: UUID, reason: str) -> Rfq:
    """Platform staff close an abusive open RFQ (in the back-office's all-tenants scope); audited."""
    if not reason.strip():
        raise ValidationFailed("Say why the RFQ is closed.", details={"reason": ["Required."]})
    lock_rfq(rfq_id)
    rfq = Rfq.objects.filter(pk=rfq_id).first()
    if rfq is None:
        raise NotFound("RFQ not found.")
    return _close(rfq, status=RfqStatus.CLOSED, who=STAFF, actor=actor, reason=reason.strip())


@transaction.atomic
def rfq_expire(*, rfq_id: UUID, now: datetime) -> Rfq | None:
    """Expire an open RFQ whose deadline has passed (its live offers expire too); None when
    it was awarded, cancelled or extended in the meantime."""
    lock_rfq(rfq_id)
    rfq = Rfq.objects.filter(pk=rfq_id).first()
    if rfq is None or rfq.status != RfqStatus.OPEN or rfq.deadline > now:
        return None
    system = Actor.system(organization_id=rfq.organization_id)
    return _close(rfq, status=RfqStatus.EXPIRED, who=SYSTEM, actor=system, reason="The deadline passed.")


def _rfqs_past_deadline(now: datetime):
    return Rfq.objects.filter(status=RfqStatus.OPEN, deadline__lte=now)


def rfqs_due_organizations(*, now: datetime | None = None) -> list[UUID]:
    """Organizations owning an open RFQ past its deadline. Reads every tenant: the beat task
    calls it in its bypass scope, then expires each organization's RFQs in that one's scope."""
    return list(
        _rfqs_past_deadline(now or timezone.now()).order_by().values_list("organization_id", flat=True).distinct()
    )


def rfqs_expire_due(*, now: datetime | None = None) -> int:
    """Expire the current organization's open RFQs past their deadline, each in a savepoint of
    the task's transaction (the scope is the entry point's: the beat task's, per organization).
    Returns how many expired."""
    now = now or timezone.now()
    due = list(
        _rfqs_past_deadline(now)
        .filter(organization_id=current_organization_id())
        .order_by("deadline")
        .values_list("id", flat=True)
    )
    expired = sum(1 for rfq_id in due if rfq_expire(rfq_id=rfq_id, now=now) is not None)
    logger.info("marketplace.rfqs_expired", extra={"due": len(due), "expired": expired})
    return expired


def rfq_award(*, rfq: Rfq, offer: Offer, order_id: UUID, actor: Actor) -> Rfq:
    """Mark a locked, open RFQ awarded to `offer` (the offers service accepts, rejects and
    creates the order around this call)."""
    rfq.closed_at = timezone.now()
    rfq.awarded_offer = offer
    rfq.awarded_organization_id = offer.carrier_organization_id
    rfq.order_id = order_id
    move(
        rfq,
        RfqStatus.AWARDED,
        transitions=RFQ,
        actor=actor,
        who=OWNER,
        reason=f"Awarded to {offer.carrier_organization_name}.",
        save=["closed_at", "awarded_offer", "awarded_organization_id", "order", "updated_at"],
        audit={
            "action": "rfq.awarded",
            "resource_type": "rfq",
            "new_values": {"status": RfqStatus.AWARDED, "offer": str(offer.id), "order": str(order_id)},
            "organization_id": rfq.organization_id,
        },
        event=lambda: events.RfqClosed(
            **_event_fields(rfq), reason="awarded", awarded_offer_id=str(offer.id), order_id=str(order_id)
        ),
    )
    return rfq
