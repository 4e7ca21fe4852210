"""Registering a device, correcting its record, recording the steps of its life and attaching
its documents and photos."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.countries import is_country
from apps.core.errors import DomainError, ErrorCode, NotFound, PermissionDenied, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.services import outbox_publish, sequence_next
from apps.core.updates import model_changes, model_update
from apps.core.uploads import Upload, upload_checked
from apps.passports import codes
from apps.passports.events import PassportLifecycleRecorded, PassportRegistered, PassportUpdated
from apps.passports.models import (
    AttachmentKind,
    DevicePassport,
    EventKind,
    PassportAttachment,
    PassportEvent,
    PassportStatus,
    ProductType,
)
from apps.passports.transitions import (
    KIND_OF_STATUS,
    PASSPORT,
    PERMISSION_OF_KIND,
    PRIVATE_KINDS,
    SYSTEM_KINDS,
    status_after,
)
from apps.tenancy.roles import Grant, actor_grant

logger = logging.getLogger(__name__)

GTIN = re.compile(r"^[0-9]{8}$|^[0-9]{12,14}$")
# A clock a little ahead of ours is not the future.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class PassportInput:
    device_name: str
    manufacturer: str
    serial_number: str
    product_type: str
    origin_country: str
    model: str = ""
    gtin: str = ""
    description: str = ""
    current_location: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    warranty_until: date | None = None
    customer_id: UUID | None = None
    # When it was made (the first lifecycle step); now when not given.
    manufactured_at: datetime | None = None
    extra: dict = field(default_factory=dict)


EDITABLE_FIELDS = (
    "device_name",
    "manufacturer",
    "model",
    "serial_number",
    "gtin",
    "description",
    "current_location",
    "latitude",
    "longitude",
    "warranty_until",
    "customer_id",
)


def gtin_14(value: str) -> str:
    """A GTIN-8, -12, -13 or -14 as the 14 digits of a GS1 Digital Link (zeros in front), after
    its GS1 check digit is verified; '' for none. ValueError names what is wrong."""
    from stdnum import ean

    text = (value or "").strip()
    if not text:
        return ""
    if not GTIN.match(text):
        raise ValueError("A GTIN has 8, 12, 13 or 14 digits.")
    if not ean.is_valid(text):
        raise ValueError("The GTIN's check digit is wrong.")
    return text.zfill(14)


def _text_errors(values: dict, required: tuple[str, ...], limits: dict[str, int]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in required:
        if not str(values.get(name) or "").strip():
            errors[name] = ["This field is required."]
    for name, limit in limits.items():
        if len(str(values.get(name) or "")) > limit:
            errors.setdefault(name, []).append(f"At most {limit} characters.")
    return errors


def _coordinate_errors(latitude, longitude) -> dict[str, list[str]]:
    errors = {}
    if (latitude is None) != (longitude is None):
        errors["latitude" if latitude is None else "longitude"] = ["Give both coordinates, or neither."]
    if latitude is not None and not -90 <= latitude <= 90:
        errors["latitude"] = ["Between -90 and 90."]
    if longitude is not None and not -180 <= longitude <= 180:
        errors["longitude"] = ["Between -180 and 180."]
    return errors


def _customer_error(organization_id: UUID, customer_id: UUID | None) -> dict[str, list[str]]:
    from apps.tenancy.selectors import member_list

    if customer_id is None:
        return {}
    if not member_list(organization_id=organization_id).filter(user_id=customer_id, is_active=True).exists():
        return {"customer_id": ["Not an active member of your organization."]}
    return {}


def _raise(errors: dict[str, list[str]], message: str) -> None:
    if errors:
        only_missing = all(messages == ["This field is required."] for messages in errors.values())
        code = ErrorCode.VALIDATION_FIELD_REQUIRED if only_missing else ErrorCode.VALIDATION_FIELD_INVALID
        raise ValidationFailed(message, code=code, details=errors)


def passport_input_errors(data: PassportInput, *, organization_id: UUID) -> dict[str, list[str]]:
    """Every problem of a new passport's fields, by field (no query but the customer's)."""
    values = vars(data)
    errors = _text_errors(
        values,
        ("device_name", "manufacturer", "serial_number", "product_type", "origin_country"),
        {"device_name": 200, "manufacturer": 200, "model": 120, "serial_number": 80, "current_location": 200},
    )
    if data.product_type and data.product_type not in ProductType.values:
        errors["product_type"] = [f"One of {', '.join(ProductType.values)}."]
    if data.origin_country and not is_country(data.origin_country):
        errors["origin_country"] = ["An ISO 3166-1 alpha-2 country code, e.g. DE."]
    try:
        gtin_14(data.gtin)
    except ValueError as error:
        errors["gtin"] = [str(error)]
    if data.serial_number and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/\-]*", data.serial_number.strip()):
        errors.setdefault("serial_number", []).append("Letters, digits and . _ / - only.")
    if data.manufactured_at is not None and data.manufactured_at > timezone.now() + CLOCK_SKEW:
        errors["manufactured_at"] = ["Not in the future."]
    errors.update(_coordinate_errors(data.latitude, data.longitude))
    errors.update(_customer_error(organization_id, data.customer_id))
    return errors


def _serial_taken() -> DomainError:
    return DomainError(
        "This manufacturer's device with this serial number (or GTIN and serial number) already has a passport. "
        "If you hold the device, ask its owner to hand it over with a takeover request.",
        code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
        details={"serial_number": ["A passport exists for this device."]},
        status_code=400,  # as passport_register's docstring and DESIGN.md §5 say
    )


def _issue_code(*, organization_id: UUID, company: str, product_type: str, origin: str, now: datetime) -> dict:
    """The code's parts with the next sequence of the issuer's month. Locks the issuer's counter
    of the month until the transaction ends (the last thing a registration does before it
    inserts), so codes are unique and without gaps under concurrency."""
    year_month = now.strftime("%y%m")
    sequence = sequence_next(organization_id=organization_id, name=f"passport:{year_month}", year=now.year)
    if sequence > codes.SEQUENCE_MAX:
        raise DomainError(
            f"Your organization has issued {codes.SEQUENCE_MAX} passports this month, the most a code can number.",
            code=ErrorCode.QUOTA_EXCEEDED,
        )
    code = codes.compose(
        company=company, year_month=year_month, product_type=product_type, origin=origin, sequence=sequence
    )
    return {
        "code": code,
        "company_code": company,
        "year_month": year_month,
        "sequence": sequence,
        "checksum": code[-2:],
    }


def _own_name(organization_id: UUID) -> str:
    """The acting organization's name (its own row, in its own scope)."""
    from apps.tenancy.selectors import organization_get

    return organization_get(organization_id=organization_id).name


@transaction.atomic
def passport_register(
    *, actor: Actor, data: PassportInput, company_code: str | None = None, organization_name: str | None = None
) -> DevicePassport:
    """Register a device of the actor's organization: its code (issued now, with the next
    sequence of the month), and its first lifecycle step, `manufactured`. 400 with every field
    problem; 400 VALIDATION_CONSTRAINT_VIOLATION when the device already has a passport
    (whoever owns it). Publishes `passport.registered`.

    `company_code`, `organization_name`: the organization's code and name when the caller
    already has them (a batch import reads them once)."""
    from apps.tenancy.services import organization_code_ensure

    organization_id = actor.organization_id
    _raise(passport_input_errors(data, organization_id=organization_id), "The passport has invalid or missing fields.")
    company = company_code or organization_code_ensure(organization_id=organization_id)
    now = timezone.now()
    serial = data.serial_number.strip()
    passport = DevicePassport(
        organization_id=organization_id,
        issuer_organization_id=organization_id,
        product_type=data.product_type,
        origin_country=data.origin_country.upper(),
        device_name=data.device_name.strip(),
        manufacturer=data.manufacturer.strip(),
        model=data.model.strip(),
        serial_number=serial,
        gtin=gtin_14(data.gtin),
        description=data.description.strip(),
        current_location=data.current_location.strip(),
        latitude=data.latitude,
        longitude=data.longitude,
        warranty_until=data.warranty_until,
        customer_id=data.customer_id,
        created_by_id=actor.user_id,
        status=PassportStatus.MANUFACTURED,
        status_changed_at=now,
    )
    for name, value in _issue_code(
        organization_id=organization_id,
        company=company,
        product_type=passport.product_type,
        origin=passport.origin_country,
        now=now,
    ).items():
        setattr(passport, name, value)
    try:
        with transaction.atomic():
            passport.save(force_insert=True)
    except IntegrityError as error:
        if "passport_manufacturer_serial_unique" in str(error) or "passport_gtin_serial_unique" in str(error):
            raise _serial_taken() from error
        raise
    history_record(
        passport,
        transitions=PASSPORT,
        from_status="",
        to_status=PassportStatus.MANUFACTURED,
        actor=actor,
        kind=EventKind.MANUFACTURED,
        occurred_at=data.manufactured_at or now,
        location=passport.current_location,
        latitude=passport.latitude,
        longitude=passport.longitude,
        recorded_by_organization_id=organization_id,
        recorded_by_organization_name=organization_name
        if organization_name is not None
        else _own_name(organization_id),
    )
    audit_record(
        action="passport.registered",
        resource_type="passport",
        resource_id=passport.id,
        new_values={"code": passport.code, "serial_number": serial, "manufacturer": passport.manufacturer},
        organization_id=organization_id,
        actor=actor,
    )
    outbox_publish(
        PassportRegistered(
            organization_id=organization_id,
            passport_id=str(passport.id),
            code=passport.code,
            device_name=passport.device_name,
            manufacturer=passport.manufacturer,
            serial_number=serial,
            status=passport.status,
        )
    )
    logger.info("passport.registered", extra={"passport_id": str(passport.id), "code": passport.code})
    return passport


def passport_for_update(*, organization_id: UUID, passport_id: UUID) -> DevicePassport:
    """The organization's passport, locked until the transaction ends (lifecycle steps of one
    device are recorded one after the other); 404 for another's."""
    passport = (
        DevicePassport.objects.select_for_update().filter(organization_id=organization_id, id=passport_id).first()
    )
    if passport is None:
        raise NotFound("Device passport not found.")
    return passport


@transaction.atomic
def passport_update(*, actor: Actor, passport_id: UUID, data: dict) -> DevicePassport:
    """Correct the device's record (name, maker, model, serial number, GTIN, description, place,
    warranty, customer). The code and what it encodes never change. Publishes `passport.updated`
    when something changed."""
    passport = passport_for_update(organization_id=actor.organization_id, passport_id=passport_id)
    changes = model_changes(instance=passport, data=data, fields=EDITABLE_FIELDS)
    merged = {name: changes.get(name, getattr(passport, name)) for name in EDITABLE_FIELDS}
    errors = _text_errors(
        merged,
        ("device_name", "manufacturer", "serial_number"),
        {"device_name": 200, "manufacturer": 200, "model": 120, "serial_number": 80, "current_location": 200},
    )
    if "gtin" in changes:
        try:
            changes["gtin"] = gtin_14(changes["gtin"])
        except ValueError as error:
            errors["gtin"] = [str(error)]
    errors.update(_coordinate_errors(merged["latitude"], merged["longitude"]))
    if "customer_id" in changes:
        errors.update(_customer_error(actor.organization_id, changes["customer_id"]))
    _raise(errors, "The passport has invalid fields.")
    for name in ("device_name", "manufacturer", "model", "serial_number", "description", "current_location"):
        if name in changes:
            changes[name] = str(changes[name]).strip()
    try:
        with transaction.atomic():
            passport, _changed = model_update(
                instance=passport,
                data=changes,
                fields=EDITABLE_FIELDS,
                actor=actor,
                resource_type="passport",
                event=lambda saved, changed: PassportUpdated(
                    organization_id=actor.organization_id, passport_id=str(saved.id), code=saved.code, changed=changed
                ),
            )
    except IntegrityError as error:
        if "passport_manufacturer_serial_unique" in str(error) or "passport_gtin_serial_unique" in str(error):
            raise _serial_taken() from error
        raise
    return passport


@dataclass
class LifecycleInput:
    kind: str
    occurred_at: datetime | None = None
    location: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    note: str = ""
    is_public: bool | None = None
    order_id: UUID | None = None
    service_order_id: UUID | None = None
    details: dict = field(default_factory=dict)


def _may_record(actor: Actor, kind: str) -> None:
    if actor.is_system or actor.is_staff:
        return
    if actor_grant(actor, PERMISSION_OF_KIND[kind]) is Grant.NONE:
        raise PermissionDenied(f"Your role does not record {EventKind(kind).label.lower()} steps.")


def _order_link(*, organization_id: UUID, order_id: UUID) -> dict:
    """The order's number and its tracking number, when the organization is a party of it."""
    from apps.orders.selectors import order_get
    from apps.tracking.selectors import tracking_number_of_order

    try:
        order = order_get(organization_id=organization_id, order_id=order_id)
    except NotFound as error:
        raise ValidationFailed(
            "No order of your organization has this id.", details={"order_id": ["Not an order you are a party of."]}
        ) from error
    return {
        "order_number": order.number,
        "tracking_number": tracking_number_of_order(organization_id=organization_id, order_id=order_id) or "",
    }


@transaction.atomic
def passport_event_record(*, actor: Actor, passport_id: UUID, data: LifecycleInput) -> PassportEvent:
    """Record one step of the device's life. Legal only as the lifecycle table allows from the
    device's status (422 INVALID_STATE_TRANSITION, nothing changed) and only for the roles that
    record that kind (403). A step cannot be dated before the last one (the history reads in
    order) nor in the future. `shipped` may link the order that carries it (with its tracking
    number); `serviced`, the service order. Installation and receipt move the device's place.
    Publishes `passport.lifecycle_recorded`."""
    if data.kind not in EventKind.values:
        raise ValidationFailed(
            "Unknown kind of lifecycle step.", details={"kind": [f"One of {', '.join(EventKind.values)}."]}
        )
    if data.kind in SYSTEM_KINDS:
        raise ValidationFailed(
            f"A {data.kind} step is recorded by the platform itself.",
            details={"kind": ["Recorded with the passport (manufactured) or an approved takeover (transferred)."]},
        )
    _may_record(actor, data.kind)
    errors = _text_errors(vars(data), (), {"location": 200, "note": 2000})
    errors.update(_coordinate_errors(data.latitude, data.longitude))
    now = timezone.now()
    occurred_at = data.occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        errors["occurred_at"] = ["Not in the future."]
    if data.service_order_id is not None and data.kind != EventKind.SERVICED:
        errors["service_order_id"] = ["Only a serviced step links a service order."]
    if data.order_id is not None and data.kind not in (EventKind.SHIPPED, EventKind.RECEIVED):
        errors["order_id"] = ["Only a shipped or received step links an order."]
    _raise(errors, "The lifecycle step has invalid fields.")
    passport = passport_for_update(organization_id=actor.organization_id, passport_id=passport_id)
    last = (
        PassportEvent.objects.filter(passport=passport)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if last is not None and occurred_at < last:
        raise ValidationFailed(
            "A step cannot be dated before the device's last recorded step.",
            details={"occurred_at": [f"On or after {last.isoformat()}."]},
        )
    link = _order_link(organization_id=actor.organization_id, order_id=data.order_id) if data.order_id else {}
    current = passport.status
    target = status_after(data.kind, current)
    update_fields = ["status_changed_at", "updated_at"] if target != current else ["updated_at"]
    if target != current:
        passport.status_changed_at = now
    if data.kind in (EventKind.INSTALLED, EventKind.RECEIVED) and (data.location or data.latitude is not None):
        passport.current_location = data.location.strip()
        passport.latitude, passport.longitude = data.latitude, data.longitude
        update_fields += ["current_location", "latitude", "longitude"]
    event_id = uuid.uuid4()
    event = move(
        passport,
        target,
        transitions=PASSPORT,
        actor=actor,
        who=data.kind,
        reason=data.note.strip(),
        save=update_fields,
        history={
            "id": event_id,
            "kind": data.kind,
            "occurred_at": occurred_at,
            "location": data.location.strip(),
            "latitude": data.latitude,
            "longitude": data.longitude,
            "is_public": data.kind not in PRIVATE_KINDS if data.is_public is None else data.is_public,
            "order_id": data.order_id,
            "service_order_id": data.service_order_id,
            "details": data.details or {},
            "recorded_by_organization_id": actor.organization_id,
            "recorded_by_organization_name": _own_name(actor.organization_id),
            **link,
        },
        audit={
            "action": f"passport.{data.kind}",
            "resource_type": "passport",
            "organization_id": actor.organization_id,
        },
        event=lambda: PassportLifecycleRecorded(
            organization_id=actor.organization_id,
            passport_id=str(passport.id),
            code=passport.code,
            event_id=str(event_id),
            kind=data.kind,
            from_status=current,
            to_status=target,
            occurred_at=occurred_at.isoformat(),
        ),
    )
    return event


def passport_status_change(*, actor: Actor, passport_id: UUID, status: str, note: str = "", **fields) -> PassportEvent:
    """Move the device to `status` by recording the lifecycle step that leads there (qc_passed,
    shipped, installed, ...): the same checks as recording it."""
    if status not in KIND_OF_STATUS or status == PassportStatus.MANUFACTURED:
        allowed = sorted(s for s in KIND_OF_STATUS if s != PassportStatus.MANUFACTURED)
        raise ValidationFailed("Unknown status.", details={"status": [f"One of {', '.join(allowed)}."]})
    return passport_event_record(
        actor=actor, passport_id=passport_id, data=LifecycleInput(kind=KIND_OF_STATUS[status], note=note, **fields)
    )


def attachment_store(
    *,
    passport: DevicePassport,
    upload: Upload,
    kind: str,
    actor: Actor,
    event: PassportEvent | None = None,
    service_request=None,
) -> PassportAttachment:
    """Check the file by its content and store it as the passport's (the caller holds the
    transaction and has checked who may)."""
    if kind not in AttachmentKind.values:
        raise ValidationFailed(
            "Unknown kind of attachment.", details={"kind": [f"One of {', '.join(AttachmentKind.values)}."]}
        )
    content_type = upload_checked(upload, max_bytes=settings.PASSPORTS["MAX_FILE_BYTES"])
    if kind == AttachmentKind.PHOTO and not content_type.startswith("image/"):
        raise ValidationFailed("A photo is a JPEG or PNG image.", details={"file": ["Not an image."]})
    attachment = PassportAttachment(
        passport=passport,
        organization_id=passport.organization_id,
        event=event,
        service_request=service_request,
        kind=kind,
        filename=(upload.name or "file")[-200:],
        content_type=content_type,
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        uploaded_by_id=actor.user_id,
    )
    attachment.file.save(attachment.id.hex, ContentFile(upload.data), save=False)
    attachment.save(force_insert=True)
    return attachment


@transaction.atomic
def passport_attachment_add(
    *, actor: Actor, passport_id: UUID, upload: Upload, kind: str, event_id: UUID | None = None
) -> PassportAttachment:
    """Attach a document or photo to the device (operators), or to one of its steps (whoever may
    record that kind of step). Checked by content like every upload."""
    passport = passport_for_update(organization_id=actor.organization_id, passport_id=passport_id)
    event = None
    if event_id is not None:
        event = PassportEvent.objects.filter(passport=passport, id=event_id).first()
        if event is None:
            raise ValidationFailed("No such step of this device.", details={"event_id": ["Not a step of this device."]})
        _may_record(actor, event.kind)
    else:
        _may_record(actor, EventKind.RECEIVED)  # passport:manage
    attachment = attachment_store(passport=passport, upload=upload, kind=kind, actor=actor, event=event)
    audit_record(
        action="passport.attachment_added",
        resource_type="passport",
        resource_id=passport.id,
        new_values={"attachment_id": str(attachment.id), "kind": kind, "sha256": attachment.sha256},
        organization_id=actor.organization_id,
        actor=actor,
    )
    return attachment
