"""The expert's side of a service order: taking a live offer (the first accept wins), confirming
or declining an assignment, starting the work, completing it with the customer's sign-off (which
writes the `serviced` step on the device's passport)."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import system_scope
from apps.core.errors import InvalidStateTransition, NotFound, ValidationFailed
from apps.core.lifecycle import move
from apps.core.services import outbox_publish
from apps.core.uploads import Upload
from apps.service.events import ServiceOrderCompleted
from apps.service.models import (
    ExpertPassport,
    MatchingResult,
    MatchStatus,
    OfferStatus,
    ServiceAttachmentKind,
    ServiceOrder,
    ServiceOrderStatus,
)
from apps.service.services.common import (
    expert_follow_orders,
    offers_close,
    order_event_fields,
    order_for_expert,
    parties_sync,
    status_event,
)
from apps.service.services.orders import _hand_over, attachments_store
from apps.service.services.payment import payment_order_follow, payment_required_before_start
from apps.service.transitions import EXPERT, SERVICE_ORDER


def _offer_of(*, actor: Actor, service_order_id: UUID, lock: bool = True) -> MatchingResult | None:
    """The live offer of this order to the acting expert (their organization is a party of it)."""
    offers = MatchingResult.objects.filter(
        target_organization_id=actor.organization_id, source_id=service_order_id, target_user_id=actor.user_id
    )
    return (offers.select_for_update() if lock else offers).first()


@transaction.atomic
def service_order_accept(*, actor: Actor, service_order_id: UUID) -> ServiceOrder:
    """The expert takes the order.

    - An order assigned to them: they confirm it (idempotent).
    - A live offer made to them (RUSHING): the first expert to accept gets the order, exactly
      once however many accept at the same moment (the order's row is locked and must still be
      PENDING); the others get 422 INVALID_STATE_TRANSITION and their offers show TAKEN.
    Publishes `service_order.status_changed` (action accept) when it takes the order."""
    held = (
        ServiceOrder.objects.select_for_update()
        .filter(id=service_order_id, expert_organization_id=actor.organization_id, expert_user_id=actor.user_id)
        .first()
    )
    if held is not None:
        if held.status != ServiceOrderStatus.ASSIGNED:
            raise InvalidStateTransition(
                f"The service order is {held.status}.", details={"status": ["Accepted while ASSIGNED."]}
            )
        if held.accepted_at is None:
            held.accepted_at = timezone.now()
            held.save(update_fields=["accepted_at", "updated_at"])
            audit_record(
                action="service_order.accept",
                resource_type="service_order",
                resource_id=held.id,
                new_values={"accepted_at": held.accepted_at.isoformat()},
                organization_id=actor.organization_id,
                actor=actor,
            )
            # The customer side hears that the expert confirmed (the status stays ASSIGNED).
            outbox_publish(status_event(held, actor=actor, from_status=held.status, action="accept")())
        return held
    # Read, not locked yet: every path that locks an order and its offers locks the order first
    # (the winner's hand-over closes the other offers with the order locked), so locking this
    # offer before the order would deadlock with the winner (tests/service/test_dispatch_concurrency.py).
    offer = _offer_of(actor=actor, service_order_id=service_order_id, lock=False)
    if offer is None:
        raise NotFound("Service order not found.")
    if offer.offer_status != OfferStatus.OFFERED:
        raise InvalidStateTransition(
            "This offer is no longer open.", details={"offer_status": [f"The offer is {offer.offer_status}."]}
        )
    # The order is the customer's row until the expert holds it: read and take it in the
    # audited all-tenants scope, having checked above that the offer is theirs.
    with system_scope(reason="service: an expert accepts a live offer", actor_id=actor.user_id):
        order = ServiceOrder.objects.select_for_update().get(id=service_order_id)
        offer = MatchingResult.objects.select_for_update().get(id=offer.id)
        if order.status != ServiceOrderStatus.PENDING:
            offer.offer_status = OfferStatus.TAKEN
            offer.responded_at = timezone.now()
            offer.save(update_fields=["offer_status", "responded_at", "updated_at"])
            raise InvalidStateTransition(
                "Another expert took this service order.", details={"status": [f"The order is {order.status}."]}
            )
        if offer.offer_status != OfferStatus.OFFERED:  # its round ended, or the customer withdrew it, meanwhile
            raise InvalidStateTransition(
                "This offer is no longer open.", details={"offer_status": [f"The offer is {offer.offer_status}."]}
            )
        expert = ExpertPassport.objects.select_for_update().get(id=offer.target_id)
        offer.offer_status = OfferStatus.ACCEPTED
        offer.status = MatchStatus.CONTACTED
        offer.responded_at = timezone.now()
        offer.save(update_fields=["offer_status", "status", "responded_at", "updated_at"])
        return _hand_over(order, expert, actor=actor, who=EXPERT, action="accept", accepted=True)


@transaction.atomic
def service_order_decline(*, actor: Actor, service_order_id: UUID, reason: str = "") -> ServiceOrder | None:
    """The expert says no.

    - To an order assigned to them: it goes back to PENDING without an expert (the customer
      assigns another, or the offers go on); their organization stops being a party.
    - To a live offer: the offer is DECLINED; the order is untouched (None is returned: the
      order is not theirs to read).
    Publishes `service_order.status_changed` (action decline) for an assignment."""
    order = (
        ServiceOrder.objects.select_for_update()
        .filter(id=service_order_id, expert_organization_id=actor.organization_id, expert_user_id=actor.user_id)
        .first()
    )
    if order is None:
        offer = _offer_of(actor=actor, service_order_id=service_order_id)
        if offer is None:
            raise NotFound("Service order not found.")
        if offer.offer_status != OfferStatus.OFFERED:
            raise InvalidStateTransition(
                "This offer is no longer open.", details={"offer_status": [f"The offer is {offer.offer_status}."]}
            )
        offer.offer_status = OfferStatus.DECLINED
        offer.status = MatchStatus.DISMISSED
        offer.responded_at = timezone.now()
        offer.save(update_fields=["offer_status", "status", "responded_at", "updated_at"])
        return None
    from_status = order.status
    expert_id = order.expert_id
    SERVICE_ORDER.check(from_status, ServiceOrderStatus.PENDING, who=EXPERT)
    reason = (reason or "").strip()
    with system_scope(reason="service: an expert gives an order back to its customer", actor_id=actor.user_id):
        payment_order_follow(
            order,
            status="cancelled",
            reason=f"The expert gave service order {order.number} back.",
            acting_organization_id=actor.organization_id,
        )
        order.expert_id = order.expert_user_id = order.expert_organization_id = None
        order.accepted_at = None
        order.status_changed_at = timezone.now()
        move(
            order,
            ServiceOrderStatus.PENDING,
            transitions=SERVICE_ORDER,
            actor=actor,
            who=EXPERT,
            reason=reason,
            save=["expert", "expert_user", "expert_organization", "accepted_at", "status_changed_at", "updated_at"],
            audit={
                "action": "service_order.decline",
                "resource_type": "service_order",
                "organization_id": actor.organization_id,
            },
            event=status_event(order, actor=actor, from_status=from_status, action="decline", reason=reason),
        )
        parties_sync(order)
        MatchingResult.objects.filter(source_id=order.id, target_id=expert_id).update(
            offer_status=OfferStatus.DECLINED, status=MatchStatus.DISMISSED, responded_at=timezone.now()
        )
    expert_follow_orders(expert_id=expert_id, actor=actor, reason=f"Service order {order.number} declined.")
    return order


@transaction.atomic
def service_order_start(*, actor: Actor, service_order_id: UUID) -> ServiceOrder:
    """The assigned expert starts the work: ASSIGNED -> IN_PROGRESS; they are IN_SERVICE."""
    order = order_for_expert(actor=actor, service_order_id=service_order_id)
    SERVICE_ORDER.check(order.status, ServiceOrderStatus.IN_PROGRESS, who=EXPERT)
    payment_required_before_start(order)
    from_status = order.status
    order.status_changed_at = timezone.now()
    if order.accepted_at is None:
        order.accepted_at = order.status_changed_at
    move(
        order,
        ServiceOrderStatus.IN_PROGRESS,
        transitions=SERVICE_ORDER,
        actor=actor,
        who=EXPERT,
        save=["status_changed_at", "accepted_at", "updated_at"],
        audit={
            "action": "service_order.start",
            "resource_type": "service_order",
            "organization_id": actor.organization_id,
        },
        event=status_event(order, actor=actor, from_status=from_status, action="start"),
    )
    expert_follow_orders(expert_id=order.expert_id, actor=actor, reason=f"Service order {order.number} started.")
    return order


@dataclass
class CompletionInput:
    work_done: str
    signed_off_by_name: str
    parts_used: list[dict] = field(default_factory=list)
    photos: list[Upload] = field(default_factory=list)
    sign_off: Upload | None = None


def _parts_errors(parts) -> list[str]:
    if not isinstance(parts, list) or len(parts) > 100:
        return ["A list of at most 100 parts."]
    problems = []
    for index, part in enumerate(parts):
        if not isinstance(part, dict) or not str(part.get("name") or "").strip():
            problems.append(f"Part {index + 1}: a name is required.")
            continue
        quantity = part.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 10_000:
            problems.append(f"Part {index + 1}: quantity is a whole number from 1 to 10000.")
        if set(part) - {"name", "quantity", "part_number"}:
            problems.append(f"Part {index + 1}: only name, quantity and part_number.")
    return problems


@transaction.atomic
def service_order_complete(*, actor: Actor, service_order_id: UUID, data: CompletionInput) -> ServiceOrder:
    """The assigned expert completes the work: IN_PROGRESS -> COMPLETED with what was done, the
    parts used, photos of the work and the customer's sign-off (the name of who signed, and
    optionally the signature as an image). Writes the `serviced` step on the device's passport
    (when the device is still the customer's and installed), counts the expert's completed
    orders, frees them. Publishes `service_order.status_changed` and `service_order.completed`."""
    errors: dict[str, list[str]] = {}
    if not data.work_done.strip():
        errors["work_done"] = ["Say what was done."]
    elif len(data.work_done) > 4000:
        errors["work_done"] = ["At most 4000 characters."]
    if not data.signed_off_by_name.strip():
        errors["signed_off_by_name"] = ["The name of the customer's person who signed the work off."]
    elif len(data.signed_off_by_name) > 200:
        errors["signed_off_by_name"] = ["At most 200 characters."]
    parts_problems = _parts_errors(data.parts_used)
    if parts_problems:
        errors["parts_used"] = parts_problems
    if errors:
        raise ValidationFailed("The completion has invalid or missing fields.", details=errors)
    order = order_for_expert(actor=actor, service_order_id=service_order_id)
    SERVICE_ORDER.check(order.status, ServiceOrderStatus.COMPLETED, who=EXPERT)
    now = timezone.now()
    if data.photos:
        attachments_store(order=order, uploads=data.photos, kind=ServiceAttachmentKind.COMPLETION_PHOTO, actor=actor)
    if data.sign_off is not None:
        attachments_store(order=order, uploads=[data.sign_off], kind=ServiceAttachmentKind.SIGN_OFF, actor=actor)
    from_status = order.status
    order.work_done = data.work_done.strip()
    order.parts_used = [
        {
            "name": str(part["name"]).strip(),
            "quantity": part.get("quantity", 1),
            "part_number": str(part.get("part_number", "")),
        }
        for part in data.parts_used
    ]
    order.signed_off_by_name = data.signed_off_by_name.strip()
    order.signed_off_at = order.completed_at = order.status_changed_at = now
    if order.passport_id:
        order.passport_event_id = _serviced_step(order, actor=actor)
    move(
        order,
        ServiceOrderStatus.COMPLETED,
        transitions=SERVICE_ORDER,
        actor=actor,
        who=EXPERT,
        save=[
            "work_done",
            "parts_used",
            "signed_off_by_name",
            "signed_off_at",
            "completed_at",
            "status_changed_at",
            "passport_event_id",
            "updated_at",
        ],
        audit={
            "action": "service_order.complete",
            "resource_type": "service_order",
            "organization_id": actor.organization_id,
        },
        event=status_event(order, actor=actor, from_status=from_status, action="complete"),
    )
    payment_order_follow(
        order,
        status="delivered",
        reason=f"Service order {order.number} completed.",
        acting_organization_id=actor.organization_id,
    )
    # The expert's organization is acting: the count is on its own row.
    ExpertPassport.objects.filter(id=order.expert_id).update(completed_orders=F("completed_orders") + 1)
    outbox_publish(
        ServiceOrderCompleted(
            # The expert's organization acts (the outbox row is its); a referral qualifies on
            # the customer organization's first completed order: it is in the payload.
            **order_event_fields(order, organization_id=actor.organization_id),
            completed_at=now.isoformat(),
            passport_id=str(order.passport_id) if order.passport_id else None,
        )
    )
    offers_close(order, outcome=OfferStatus.WITHDRAWN, actor=actor)
    expert_follow_orders(expert_id=order.expert_id, actor=actor, reason=f"Service order {order.number} completed.")
    return order


def _serviced_step(order: ServiceOrder, *, actor: Actor) -> UUID | None:
    from apps.passports.services import passport_serviced_by_order

    expert = ExpertPassport.objects.filter(id=order.expert_id).values("code", "display_name").first() or {}
    with system_scope(
        reason="service: a completed service order's step on the customer's device", actor_id=actor.user_id
    ):
        return passport_serviced_by_order(
            organization_id=order.organization_id,
            passport_id=order.passport_id,
            service_order_id=order.id,
            occurred_at=order.completed_at,
            note=order.work_done,
            details={
                "service_order_number": order.number,
                "expert_code": expert.get("code", ""),
                "expert_name": expert.get("display_name", ""),
                "parts_used": order.parts_used,
                "signed_off_by_name": order.signed_off_by_name,
            },
        )
