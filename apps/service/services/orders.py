"""The customer's side of a service order: asking for the work (from the API, or from a device's
public "Request service"), correcting it, assigning an expert, cancelling."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import InvalidStateTransition, NotFound, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.money import is_currency
from apps.core.services import number_next, outbox_publish
from apps.core.updates import model_changes
from apps.core.uploads import Upload, upload_checked
from apps.service import vocabulary
from apps.service.events import ServiceOrderCreated, ServiceOrderUpdated
from apps.service.models import (
    ExpertPassport,
    OfferStatus,
    ServiceAttachmentKind,
    ServiceOrder,
    ServiceOrderAttachment,
    ServiceOrderStatus,
    Urgency,
    WorkStatus,
)
from apps.service.services.common import (
    expert_follow_orders,
    offers_close,
    order_event_fields,
    order_for_customer,
    parties_sync,
    status_event,
)
from apps.service.services.payment import payment_order_follow, payment_order_open
from apps.service.transitions import CUSTOMER, OPEN_FOR_EXPERT, SERVICE_ORDER

# The skill a device's product type usually needs (a service request from a device's page
# says what is wrong, not which skill fixes it).
SKILL_OF_PRODUCT_TYPE = {
    "MO": "EL-MOT",
    "DR": "EL-DRV",
    "PL": "AU-PLC",
    "SE": "AU-SEN",
    "HM": "AU-HMI",
    "RB": "AU-ROB",
    "PU": "ME-PMP",
    "CO": "ME-CMP",
    "VA": "ME-PMP",
    "GB": "ME-GBX",
    "SW": "EL-SWG",
    "GE": "EL-GEN",
    "MC": "ME-MCT",
    "OT": "ME-MCT",
}
SERVICEABLE_STATUS = "installed"


@dataclass
class ServiceOrderInput:
    title: str
    required_skill: str
    description: str = ""
    urgency: str = Urgency.MEDIUM
    passport_id: UUID | None = None
    customer_id: UUID | None = None
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    price: Decimal | None = None
    currency: str = ""
    photos: list[Upload] = field(default_factory=list)


EDITABLE_FIELDS = (
    "title",
    "description",
    "urgency",
    "required_skill",
    "address",
    "latitude",
    "longitude",
    "scheduled_start",
    "scheduled_end",
    "price",
    "currency",
)


def _errors(values: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not str(values.get("title") or "").strip():
        errors["title"] = ["This field is required."]
    for name, limit in (("title", 200), ("description", 4000), ("address", 300)):
        if len(str(values.get(name) or "")) > limit:
            errors.setdefault(name, []).append(f"At most {limit} characters.")
    if values.get("urgency") not in Urgency.values:
        errors["urgency"] = [f"One of {', '.join(Urgency.values)}."]
    if not vocabulary.is_skill_key(values.get("required_skill") or ""):
        errors["required_skill"] = ["An INDUSTRY-SKILL code of the vocabulary (GET /api/v1/experts/skills)."]
    latitude, longitude = values.get("latitude"), values.get("longitude")
    if (latitude is None) != (longitude is None):
        errors["latitude" if latitude is None else "longitude"] = ["Give both coordinates, or neither."]
    elif latitude is not None:
        if not -90 <= Decimal(latitude) <= 90:
            errors["latitude"] = ["Between -90 and 90."]
        if not -180 <= Decimal(longitude) <= 180:
            errors["longitude"] = ["Between -180 and 180."]
    start, end = values.get("scheduled_start"), values.get("scheduled_end")
    if start and end and end < start:
        errors["scheduled_end"] = ["On or after the scheduled start."]
    price, currency = values.get("price"), values.get("currency") or ""
    if price is not None:
        if Decimal(price) < 0:
            errors["price"] = ["Not negative."]
        if not is_currency(currency):
            errors["currency"] = ["An ISO 4217 currency code for the price."]
    elif currency and not is_currency(currency):
        errors["currency"] = ["An ISO 4217 currency code."]
    return errors


def _raise(errors: dict, message: str) -> None:
    if errors:
        raise ValidationFailed(message, details=errors)


def _device(*, organization_id: UUID, passport_id: UUID, customer_id: UUID | None):
    from apps.passports.selectors import passport_get

    try:
        passport = passport_get(organization_id=organization_id, passport_id=passport_id, customer_id=customer_id)
    except NotFound as error:
        raise ValidationFailed("Unknown device.", details={"passport_id": ["Not a device of yours."]}) from error
    if passport.status != SERVICEABLE_STATUS:
        raise ValidationFailed(
            "Only an installed device is serviced in the field.",
            details={"passport_id": [f"The device is {passport.status}."]},
        )
    return passport


def _customer(*, organization_id: UUID, customer_id: UUID) -> None:
    from apps.tenancy.selectors import member_list

    if not member_list(organization_id=organization_id).filter(user_id=customer_id).exists():
        raise ValidationFailed(
            "The customer is not a member of your organization.", details={"customer_id": ["Not a member."]}
        )


def attachments_store(
    *, order: ServiceOrder, uploads: list[Upload], kind: str, actor: Actor
) -> list[ServiceOrderAttachment]:
    """Check every file by its content before storing any (one bad photo stores none)."""
    limit = settings.SERVICE["MAX_PHOTOS"]
    if len(uploads) > limit:
        raise ValidationFailed(f"At most {limit} files.", details={"photos": [f"At most {limit}."]})
    checked = []
    for index, upload in enumerate(uploads):
        content_type = upload_checked(upload, max_bytes=settings.SERVICE["MAX_FILE_BYTES"], field=f"photos[{index}]")
        if kind != ServiceAttachmentKind.DOCUMENT and not content_type.startswith("image/"):
            raise ValidationFailed("A photo is a JPEG or PNG image.", details={f"photos[{index}]": ["Not an image."]})
        checked.append((upload, content_type))
    stored = []
    for upload, content_type in checked:
        attachment = ServiceOrderAttachment(
            service_order=order,
            organization_id=order.organization_id,
            expert_organization_id=order.expert_organization_id,
            kind=kind,
            filename=(upload.name or "file")[-200:],
            content_type=content_type,
            size=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
            uploaded_by_id=actor.user_id,
        )
        attachment.file.save(attachment.id.hex, ContentFile(upload.data), save=False)
        attachment.save(force_insert=True)
        stored.append(attachment)
    return stored


def _order_open(order: ServiceOrder, *, actor: Actor, reason: str = "") -> None:
    """Number and store a new PENDING order with its first history row, its audit row and
    `service_order.created` (which starts the matching), in the caller's transaction."""
    order.number = number_next(organization_id=order.organization_id, name="service_order", prefix="SVO")
    order.save(force_insert=True)
    history_record(
        order,
        transitions=SERVICE_ORDER,
        from_status="",
        to_status=ServiceOrderStatus.PENDING,
        actor=actor,
        reason=reason,
    )
    audit_record(
        action="service_order.created",
        resource_type="service_order",
        resource_id=order.id,
        new_values={"number": order.number, "urgency": order.urgency, "passport_code": order.passport_code},
        organization_id=order.organization_id,
        actor=actor,
    )
    outbox_publish(
        ServiceOrderCreated(
            **order_event_fields(order),
            urgency=order.urgency,
            required_skill=order.required_skill,
            passport_id=str(order.passport_id) if order.passport_id else None,
            service_request_id=str(order.service_request_id) if order.service_request_id else None,
        )
    )


@transaction.atomic
def service_order_create(*, actor: Actor, data: ServiceOrderInput, own: bool = False) -> ServiceOrder:
    """Ask for service: a PENDING order of the actor's organization (numbered SVO-YYYY-NNNNNN),
    on one of its installed devices when `passport_id` is given (its place is the site unless
    coordinates are given). 400 with every field problem, nothing written. Publishes
    `service_order.created`, which starts the matching of experts.

    `own`: the actor's grant reaches only their own devices and orders (a customer)."""
    values = vars(data)
    _raise(_errors(values), "The service order has invalid or missing fields.")
    organization_id = actor.organization_id
    customer_id = data.customer_id or actor.user_id
    if own and customer_id != actor.user_id:
        raise ValidationFailed("You order service for yourself.", details={"customer_id": ["Only yourself."]})
    if customer_id and customer_id != actor.user_id:
        _customer(organization_id=organization_id, customer_id=customer_id)
    passport = None
    if data.passport_id is not None:
        passport = _device(
            organization_id=organization_id, passport_id=data.passport_id, customer_id=actor.user_id if own else None
        )
    latitude, longitude = data.latitude, data.longitude
    if latitude is None and passport is not None:
        latitude, longitude = passport.latitude, passport.longitude
    now = timezone.now()
    order = ServiceOrder(
        organization_id=organization_id,
        title=data.title.strip(),
        description=data.description.strip(),
        urgency=data.urgency,
        required_skill=data.required_skill,
        passport_id=passport.id if passport else None,
        passport_code=passport.code if passport else "",
        device_name=passport.device_name if passport else "",
        customer_id=customer_id,
        created_by_id=actor.user_id,
        address=data.address.strip() or (passport.current_location if passport else ""),
        latitude=latitude,
        longitude=longitude,
        scheduled_start=data.scheduled_start,
        scheduled_end=data.scheduled_end,
        price=data.price,
        currency=(data.currency or "").upper(),
        status=ServiceOrderStatus.PENDING,
        status_changed_at=now,
    )
    _order_open(order, actor=actor)
    if data.photos:
        attachments_store(order=order, uploads=data.photos, kind=ServiceAttachmentKind.PHOTO, actor=actor)
    return order


@transaction.atomic
def service_order_update(
    *, actor: Actor, service_order_id: UUID, changes: dict, own_user_id: UUID | None = None
) -> ServiceOrder:
    """Correct the order while no work has started (PENDING or ASSIGNED); 422 after. Publishes
    `service_order.updated` when anything changed."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed("These fields cannot be changed.", details={name: ["Not editable."] for name in unknown})
    order = order_for_customer(actor=actor, service_order_id=service_order_id, own_user_id=own_user_id)
    if order.status not in (ServiceOrderStatus.PENDING, ServiceOrderStatus.ASSIGNED):
        raise InvalidStateTransition(
            f"A service order that is {order.status} is no longer changed.",
            details={"status": ["Changes are possible while PENDING or ASSIGNED."]},
        )
    if "currency" in changes:
        changes["currency"] = (changes["currency"] or "").upper()
    merged = {name: getattr(order, name) for name in EDITABLE_FIELDS} | changes
    _raise(_errors(merged), "The service order has invalid fields.")
    changed = model_changes(instance=order, data=changes, fields=EDITABLE_FIELDS)
    if not changed:
        return order
    if order.payment_order_id and changed.keys() & {"price", "currency"}:
        raise InvalidStateTransition(
            "The price is fixed once its payment order is made.",
            details={"price": [f"Payment order {order.payment_order_number} carries it."]},
        )
    old = {name: str(getattr(order, name)) for name in changed}
    for name, value in changed.items():
        setattr(order, name, value.strip() if isinstance(value, str) else value)
    order.save(update_fields=[*changed, "updated_at"])
    audit_record(
        action="service_order.updated",
        resource_type="service_order",
        resource_id=order.id,
        old_values=old,
        new_values={name: str(getattr(order, name)) for name in changed},
        organization_id=order.organization_id,
        actor=actor,
    )
    outbox_publish(ServiceOrderUpdated(**order_event_fields(order), changed=sorted(changed)))
    return order


def _assignable(expert: ExpertPassport, order: ServiceOrder) -> None:
    if expert.work_status == WorkStatus.OFF_DUTY:
        raise InvalidStateTransition(
            "The expert is off duty.", details={"expert_id": ["Choose an expert who is not OFF_DUTY."]}
        )
    if order.scheduled_start and order.scheduled_end:
        overlapping = (
            ServiceOrder.objects.filter(
                expert_id=expert.id,
                status__in=OPEN_FOR_EXPERT,
                scheduled_start__lt=order.scheduled_end,
                scheduled_end__gt=order.scheduled_start,
            )
            .exclude(id=order.id)
            .values_list("number", flat=True)
            .first()
        )
        if overlapping:
            raise InvalidStateTransition(
                "The expert is booked at that time.",
                details={"expert_id": [f"Booked for another service order ({overlapping}) in this window."]},
            )


@transaction.atomic
def service_order_assign(
    *, actor: Actor, service_order_id: UUID, expert_id: UUID, own_user_id: UUID | None = None
) -> ServiceOrder:
    """The customer (a dispatcher) gives a PENDING order to an expert: a published profile, or
    one of the organization's own experts, not OFF_DUTY and not booked in the order's window.
    The expert's organization becomes a party; open live offers are withdrawn; the expert is
    BOOKED. Publishes `service_order.status_changed` (action assign)."""
    order = order_for_customer(actor=actor, service_order_id=service_order_id, own_user_id=own_user_id)
    SERVICE_ORDER.check(order.status, ServiceOrderStatus.ASSIGNED, who=CUSTOMER)
    expert = ExpertPassport.objects.filter(id=expert_id).first()  # published, or the organization's own
    if expert is None:
        raise ValidationFailed("Unknown expert.", details={"expert_id": ["No published expert with this id."]})
    _assignable(expert, order)
    return _hand_over(order, expert, actor=actor, who=CUSTOMER, action="assign", accepted=False)


def _hand_over(order: ServiceOrder, expert: ExpertPassport, *, actor: Actor, who: str, action: str, accepted: bool):
    """Give the (locked, PENDING) order to the expert: parties, the move, offers, work status."""
    from_status = order.status
    order.expert_id = expert.id
    order.expert_user_id = expert.user_id
    order.expert_organization_id = expert.organization_id
    order.status_changed_at = timezone.now()
    order.accepted_at = timezone.now() if accepted else None
    move(
        order,
        ServiceOrderStatus.ASSIGNED,
        transitions=SERVICE_ORDER,
        actor=actor,
        who=who,
        save=["expert", "expert_user", "expert_organization", "status_changed_at", "accepted_at", "updated_at"],
        audit={
            "action": f"service_order.{action}",
            "resource_type": "service_order",
            "organization_id": actor.organization_id,
            "new_values": {"status": ServiceOrderStatus.ASSIGNED, "expert": expert.code},
        },
        event=status_event(order, actor=actor, from_status=from_status, action=action),
    )
    parties_sync(order)
    payment_order_open(order, actor=actor)
    offers_close(
        order,
        outcome=OfferStatus.TAKEN if action == "accept" else OfferStatus.WITHDRAWN,
        actor=actor,
        keep=None,
    )
    expert_follow_orders(expert_id=expert.id, actor=actor, reason=f"Service order {order.number} {action}ed.")
    return order


@transaction.atomic
def service_order_cancel(
    *, actor: Actor, service_order_id: UUID, reason: str, own_user_id: UUID | None = None
) -> ServiceOrder:
    """The customer cancels an order no one has started (PENDING or ASSIGNED), with a reason;
    work in progress is not cancelled (422: open a dispute). Live offers are withdrawn and the
    expert who held it is free again. Publishes `service_order.status_changed` (cancel)."""
    if not (reason or "").strip():
        raise ValidationFailed("Say why the order is cancelled.", details={"reason": ["This field is required."]})
    order = order_for_customer(actor=actor, service_order_id=service_order_id, own_user_id=own_user_id)
    from_status = order.status
    order.cancellation_reason = reason.strip()
    order.status_changed_at = timezone.now()
    order.offers_expire_at = None
    move(
        order,
        ServiceOrderStatus.CANCELLED,
        transitions=SERVICE_ORDER,
        actor=actor,
        who=CUSTOMER,
        reason=order.cancellation_reason,
        save=["cancellation_reason", "status_changed_at", "offers_expire_at", "updated_at"],
        audit={
            "action": "service_order.cancel",
            "resource_type": "service_order",
            "organization_id": actor.organization_id,
        },
        event=status_event(
            order, actor=actor, from_status=from_status, action="cancel", reason=order.cancellation_reason
        ),
    )
    offers_close(order, outcome=OfferStatus.WITHDRAWN, actor=actor)
    payment_order_follow(
        order,
        status="cancelled",
        reason=f"Service order {order.number} cancelled: {order.cancellation_reason}",
        acting_organization_id=actor.organization_id,
    )
    if order.expert_id:
        expert_follow_orders(expert_id=order.expert_id, actor=actor, reason=f"Service order {order.number} cancelled.")
    return order


def service_order_from_request(*, organization_id: UUID, service_request) -> ServiceOrder | None:
    """A service request from a device's public page (or a member) becomes a PENDING service
    order of the device's owner, once (the request id is unique on orders), when the owner has
    expert services on. The skill is the one the device's type usually needs; the site is the
    device's place. Called by the subscriber of `passport.service_requested`, in the owner's scope."""
    from apps.passports.selectors import passport_get
    from apps.tenancy.selectors import feature_is_active

    if not feature_is_active(organization_id=organization_id, name="expert_services"):
        return None
    if ServiceOrder.objects.filter(service_request_id=service_request.id).exists():
        return None
    passport = passport_get(organization_id=organization_id, passport_id=service_request.passport_id)
    description = service_request.description.strip()
    contact = ", ".join(
        part
        for part in (service_request.contact_name, service_request.contact_phone, service_request.contact_email)
        if part
    )
    order = ServiceOrder(
        organization_id=organization_id,
        title=f"Service request {service_request.number}: {passport.device_name}"[:200],
        description=(description + (f"\n\nContact: {contact}" if contact else ""))[:4000],
        urgency=Urgency.MEDIUM,
        required_skill=SKILL_OF_PRODUCT_TYPE.get(passport.product_type, "ME-MCT"),
        passport_id=passport.id,
        passport_code=passport.code,
        device_name=passport.device_name,
        service_request_id=service_request.id,
        customer_id=service_request.requested_by_id,
        address=passport.current_location,
        latitude=passport.latitude,
        longitude=passport.longitude,
        status=ServiceOrderStatus.PENDING,
        status_changed_at=timezone.now(),
    )
    with transaction.atomic():
        _order_open(
            order,
            actor=Actor.system(organization_id=organization_id),
            reason=f"From service request {service_request.number}.",
        )
    return order
