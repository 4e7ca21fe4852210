"""Returns of delivered goods: the client side asks, the forwarder's side decides, receives
the goods back and refunds. The lifecycle is transitions.RETURN."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum

from apps.core.audit import audit_record
from apps.core.errors import InvalidStateTransition, NotFound, PermissionDenied, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.services import outbox_publish
from apps.orders import events
from apps.orders.models import (
    Order,
    OrderItem,
    OrderReturn,
    ReturnItem,
    ReturnPhoto,
    ReturnStatus,
)
from apps.orders.services.files import IMAGE_TYPES, Upload, check_upload
from apps.orders.services.orders import Actor, _check_actor, _parties_of, _sides_of
from apps.orders.transitions import CLIENT, RETURN, RETURNABLE_ORDER_STATUSES

MAX_PHOTOS = 5


@dataclass(frozen=True)
class ReturnItemInput:
    order_item_id: int
    quantity: int


def _parties(order: Order) -> dict:
    return {
        "client_organization_id": order.client_organization_id,
        "supplier_organization_id": order.supplier_organization_id,
    }


def _return_event(order_return: OrderReturn, *, acting_organization_id: UUID, note: str):
    event = events.RETURN_EVENTS[order_return.status]
    return event(
        organization_id=acting_organization_id,
        return_id=str(order_return.id),
        order_id=str(order_return.order_id),
        status=order_return.status,
        note=note,
        party_organization_ids=_parties_of(order_return.order),
    )


def _check_items(order: Order, items: list[ReturnItemInput]) -> dict[int, OrderItem]:
    """Each item belongs to the order and no more comes back than was ordered, counting the
    returns still open or done (rejected ones gave nothing back)."""
    if not items:
        raise ValidationFailed("Say which items come back.", details={"items": ["At least one item."]})
    ordered = {item.id: item for item in OrderItem.objects.filter(order=order)}
    returned = dict(
        ReturnItem.objects.filter(order_return__order=order)
        .exclude(order_return__status=ReturnStatus.REJECTED)
        .values("order_item_id")
        .annotate(quantity=Sum("quantity"))
        .values_list("order_item_id", "quantity")
    )
    asked: dict[int, int] = {}
    for item in items:
        if item.order_item_id not in ordered:
            raise ValidationFailed(
                "An item is not part of this order.", details={"items": [f"No item {item.order_item_id} in it."]}
            )
        if item.quantity < 1:
            raise ValidationFailed("Quantities start at 1.", details={"items": ["Quantity from 1."]})
        asked[item.order_item_id] = asked.get(item.order_item_id, 0) + item.quantity
    for item_id, quantity in asked.items():
        left = ordered[item_id].quantity - returned.get(item_id, 0)
        if quantity > left:
            raise ValidationFailed(
                f"Only {left} of {ordered[item_id].name!r} can still be returned.",
                details={"items": [f"Item {item_id}: at most {left}."]},
            )
    return ordered


@transaction.atomic
def return_request(
    *, actor: Actor, order_id: UUID, reason: str, items: list[ReturnItemInput], photos: list[Upload]
) -> OrderReturn:
    """Ask to return items of a delivered or completed order (the client side, `return:create`;
    a customer only for their own orders). Photos are checked like KYC images; a bad one
    refuses the whole request (400) before anything is stored."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or not _sides_of(order, actor.organization_id):
        raise NotFound("Order not found.")
    _check_actor(order, actor, sides=frozenset({CLIENT}), permission="return:create")
    if order.status not in RETURNABLE_ORDER_STATUSES:
        raise InvalidStateTransition(
            f"An order that is {order.status.replace('_', ' ')} cannot be returned.",
            details={"order": ["Only delivered or completed orders."]},
        )
    if not reason.strip():
        raise ValidationFailed("Say why the goods come back.", details={"reason": ["Required."]})
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"At most {MAX_PHOTOS} photos.", details={"photos": [f"At most {MAX_PHOTOS}."]})
    for photo in photos:
        check_upload(photo, field="photos", accepted=IMAGE_TYPES)
    _check_items(order, items)
    parties = _parties(order)
    order_return = OrderReturn.objects.create(
        order=order, reason=reason.strip(), requested_by_id=actor.user_id, **parties
    )
    ReturnItem.objects.bulk_create(
        ReturnItem(order_return=order_return, order_item_id=item.order_item_id, quantity=item.quantity, **parties)
        for item in items
    )
    history_record(
        order_return, transitions=RETURN, from_status="", to_status=order_return.status, actor=actor, reason=reason
    )
    stored: list[ReturnPhoto] = []
    try:
        for upload in photos:
            photo = ReturnPhoto(
                order_return=order_return,
                original_filename=upload.name[:255],
                content_type=upload.sniffed_type,
                size_bytes=len(upload.data),
                sha256=upload.sha256,
                **parties,
            )
            photo.file.save(upload.name, ContentFile(upload.data), save=False)
            stored.append(photo)
            photo.save()
        _audit(order_return, actor, "return.requested", {"items": len(items), "photos": len(photos)})
        outbox_publish(
            _return_event(order_return, acting_organization_id=actor.organization_id, note=order_return.reason)
        )
    except BaseException:
        for photo in stored:
            photo.file.delete(save=False)
        raise
    return order_return


@transaction.atomic
def return_change_status(*, return_id: UUID, actor: Actor, status: str, note: str = "") -> OrderReturn:
    """Move a return (approve, reject with a reason, received, refunded) if the table allows
    it and the actor's side and role may; history and the event in the same transaction."""
    order_return = OrderReturn.objects.select_for_update().select_related("order").filter(pk=return_id).first()
    if order_return is None or not _sides_of(order_return.order, actor.organization_id):
        raise NotFound("Return not found.")
    rule = RETURN.check(order_return.status, status)
    if not _sides_of(order_return.order, actor.organization_id) & rule.sides:
        raise PermissionDenied("Only the supplier organization may do this.")
    _check_actor(order_return.order, actor, sides=rule.sides, permission=rule.permission)
    note = note.strip()
    if status == ReturnStatus.REJECTED and not note:
        raise ValidationFailed("Say why the return is rejected.", details={"note": ["Required to reject."]})
    previous = order_return.status
    update = ["updated_at"]
    if status == ReturnStatus.REJECTED:
        order_return.rejection_reason = note
        update.append("rejection_reason")
    move(
        order_return,
        status,
        transitions=RETURN,
        actor=actor,
        reason=note,
        save=update,
        audit={
            "action": f"return.{status}",
            "resource_type": "return",
            "old_values": None,
            "new_values": {"status": status, "from": previous, "note": note},
            "organization_id": actor.organization_id,
        },
        event=lambda: _return_event(order_return, acting_organization_id=actor.organization_id, note=note),
    )
    return order_return


def _audit(order_return: OrderReturn, actor: Actor, action: str, values: dict) -> None:
    audit_record(
        action=action,
        resource_type="return",
        resource_id=order_return.id,
        new_values={"status": order_return.status, **values},
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
    )
