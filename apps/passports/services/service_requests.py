"""Service requests (seed 002 `service-request`): someone asks the device's owner for service,
from the public page (anyone, with contact details, photos) or as a member of the owner. The
request lands with the owner (numbered SRQ-YYYY-NNNNNN in its own series) and tells its people;
the field-service context will turn it into a service order."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import tenant_scope
from apps.core.errors import NotFound, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.services import number_next, outbox_publish
from apps.core.uploads import Upload, upload_checked
from apps.passports.events import PassportServiceRequested, PassportServiceRequestStatusChanged
from apps.passports.locate import passport_locate
from apps.passports.models import (
    AttachmentKind,
    DevicePassport,
    PassportServiceRequest,
    PassportStatus,
    ServiceRequestSource,
    ServiceRequestStatus,
)
from apps.passports.services.passports import attachment_store
from apps.passports.transitions import SERVICE_REQUEST

logger = logging.getLogger(__name__)

PHONE = re.compile(r"^\+?[0-9 ()\-]{6,32}$")


@dataclass
class ServiceRequestInput:
    description: str
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    photos: tuple[Upload, ...] = ()


def _photo_errors(photos: tuple[Upload, ...]) -> list[str]:
    """Every photo checked before anything is written: a bad one found while storing them would
    roll the request back but leave the good ones before it in storage, referenced by nothing."""
    errors = []
    for photo in photos:
        try:
            content_type = upload_checked(photo, max_bytes=settings.PASSPORTS["MAX_FILE_BYTES"], field="photos")
        except ValidationFailed as error:
            errors.extend(f"{photo.name or 'A photo'}: {message}" for message in error.details["photos"])
            continue
        if not content_type.startswith("image/"):
            errors.append(f"{photo.name or 'A photo'}: a photo is a JPEG or PNG image.")
    return errors


def _checked(data: ServiceRequestInput, *, member: bool) -> ServiceRequestInput:
    errors: dict[str, list[str]] = {}
    if not (data.description or "").strip():
        errors["description"] = ["This field is required."]
    elif len(data.description) > 4000:
        errors["description"] = ["At most 4000 characters."]
    if not member and not (data.contact_name or "").strip():
        errors["contact_name"] = ["This field is required."]
    if len(data.contact_name or "") > 200:
        errors["contact_name"] = ["At most 200 characters."]
    if data.contact_email:
        try:
            validate_email(data.contact_email)
        except DjangoValidationError:
            errors["contact_email"] = ["Enter a valid e-mail address."]
    if data.contact_phone and not PHONE.match(data.contact_phone):
        errors["contact_phone"] = ["Digits, spaces, ( ) - and a leading +, 6 to 32 characters."]
    if not member and not (data.contact_email or data.contact_phone):
        errors["contact_email"] = ["Give an e-mail address or a phone number, so the owner can reach you."]
    if len(data.photos) > settings.PASSPORTS["SERVICE_REQUEST_MAX_PHOTOS"]:
        errors["photos"] = [f"At most {settings.PASSPORTS['SERVICE_REQUEST_MAX_PHOTOS']} photos."]
    elif photo_errors := _photo_errors(data.photos):
        errors["photos"] = photo_errors
    if errors:
        only_missing = all(messages == ["This field is required."] for messages in errors.values())
        from apps.core.errors import ErrorCode

        raise ValidationFailed(
            "The service request has invalid or missing fields.",
            code=ErrorCode.VALIDATION_FIELD_REQUIRED if only_missing else ErrorCode.VALIDATION_FIELD_INVALID,
            details=errors,
        )
    return data


def _create(
    *, passport: DevicePassport, actor: Actor, data: ServiceRequestInput, source: str
) -> PassportServiceRequest:
    if passport.status == PassportStatus.DECOMMISSIONED:
        raise ValidationFailed(
            "This device is decommissioned: its owner no longer services it.",
            details={"passport": ["decommissioned"]},
        )
    request = PassportServiceRequest.objects.create(
        organization_id=passport.organization_id,
        number=number_next(organization_id=passport.organization_id, name="service_request", prefix="SRQ"),
        passport=passport,
        passport_code=passport.code,
        source=source,
        contact_name=(data.contact_name or "").strip(),
        contact_email=(data.contact_email or "").strip(),
        contact_phone=(data.contact_phone or "").strip(),
        description=data.description.strip(),
        requested_by_id=actor.user_id,
    )
    for photo in data.photos:
        attachment_store(
            passport=passport, upload=photo, kind=AttachmentKind.PHOTO, actor=actor, service_request=request
        )
    history_record(
        request, transitions=SERVICE_REQUEST, from_status="", to_status=ServiceRequestStatus.OPEN, actor=actor
    )
    audit_record(
        action="passport.service_requested",
        resource_type="passport_service_request",
        resource_id=request.id,
        new_values={"passport_id": str(passport.id), "source": source, "photos": len(data.photos)},
        organization_id=passport.organization_id,
        actor=actor,
    )
    outbox_publish(
        PassportServiceRequested(
            organization_id=passport.organization_id,
            passport_id=str(passport.id),
            code=passport.code,
            service_request_id=str(request.id),
            number=request.number,
            device_name=passport.device_name,
            source=source,
        )
    )
    return request


@transaction.atomic
def service_request_submit_public(
    *, code: str = "", gtin: str = "", serial_number: str = "", data: ServiceRequestInput
) -> PassportServiceRequest:
    """Anyone asks for service on the device whose page they scanned: the request is written in
    the owner's own scope, as the platform acting for it (no user), never in the all-tenants one.
    404 for an unknown device. Photos are checked like every upload."""
    data = _checked(data, member=False)
    located = passport_locate(code=code, gtin=gtin, serial_number=serial_number)
    if located is None:
        raise NotFound("No device has this passport.")
    with tenant_scope(located.organization_id):
        passport = DevicePassport.objects.select_for_update().get(id=located.passport_id)
        return _create(
            passport=passport,
            actor=Actor.system(organization_id=located.organization_id),
            data=data,
            source=ServiceRequestSource.PUBLIC,
        )


@transaction.atomic
def service_request_create(
    *, actor: Actor, passport_id: UUID, data: ServiceRequestInput, customer_id: UUID | None = None
) -> PassportServiceRequest:
    """A member asks their organization for service on one of its devices (a customer, on one of
    theirs: `customer_id`)."""
    from apps.passports.selectors import passport_get

    data = _checked(data, member=True)
    passport = passport_get(organization_id=actor.organization_id, passport_id=passport_id, customer_id=customer_id)
    return _create(passport=passport, actor=actor, data=data, source=ServiceRequestSource.MEMBER)


@transaction.atomic
def service_request_change_status(
    *, actor: Actor, service_request_id: UUID, status: str, reason: str = ""
) -> PassportServiceRequest:
    """The owner acknowledges or closes a request (422 for a move the table has not)."""
    request = (
        PassportServiceRequest.objects.select_for_update()
        .filter(organization_id=actor.organization_id, id=service_request_id)
        .first()
    )
    if request is None:
        raise NotFound("Service request not found.")
    if status not in ServiceRequestStatus.values:
        raise ValidationFailed(
            "Unknown status.", details={"status": [f"One of {', '.join(ServiceRequestStatus.values)}."]}
        )
    current = request.status
    move(
        request,
        status,
        transitions=SERVICE_REQUEST,
        actor=actor,
        reason=(reason or "").strip(),
        save=["updated_at"],
        audit={
            "action": f"passport.service_request_{status}",
            "resource_type": "passport_service_request",
            "organization_id": actor.organization_id,
        },
        event=lambda: PassportServiceRequestStatusChanged(
            organization_id=actor.organization_id,
            passport_id=str(request.passport_id),
            code=request.passport_code,
            service_request_id=str(request.id),
            number=request.number,
            from_status=current,
            to_status=status,
        ),
    )
    return request
