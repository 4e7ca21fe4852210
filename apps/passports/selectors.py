"""Reads of device passports: what the owner's members see (tenant scope; a customer's `:own`
grant narrows it to the devices kept for them), the takeover claims of both sides, and the
owner's service requests."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, Max, Q, QuerySet

from apps.core.errors import NotFound
from apps.passports.models import (
    DevicePassport,
    PassportAttachment,
    PassportEvent,
    PassportScan,
    PassportServiceRequest,
    PassportTakeover,
)


def _own(queryset: QuerySet, customer_id: UUID | None) -> QuerySet:
    """With an `:own` grant: the devices kept for the user, or registered by them."""
    if customer_id is None:
        return queryset
    return queryset.filter(Q(customer_id=customer_id) | Q(created_by_id=customer_id))


def passport_list(*, organization_id: UUID, customer_id: UUID | None = None) -> QuerySet[DevicePassport]:
    return _own(DevicePassport.objects.filter(organization_id=organization_id), customer_id).order_by(
        "-created_at", "-id"
    )


def passport_get(*, organization_id: UUID, passport_id: UUID, customer_id: UUID | None = None) -> DevicePassport:
    passport = _own(DevicePassport.objects.filter(organization_id=organization_id, id=passport_id), customer_id).first()
    if passport is None:
        raise NotFound("Device passport not found.")
    return passport


def passport_get_by_code(*, organization_id: UUID, code: str, customer_id: UUID | None = None) -> DevicePassport | None:
    """The organization's passport with this code (a signed-in member scanning it), else None."""
    return _own(DevicePassport.objects.filter(organization_id=organization_id, code=code), customer_id).first()


def passports_by_ids(*, organization_id: UUID, passport_ids, customer_id: UUID | None = None) -> list[DevicePassport]:
    """The organization's passports among `passport_ids`, in their order (label sheets)."""
    queryset = DevicePassport.objects.filter(organization_id=organization_id, id__in=passport_ids)
    found = {p.id: p for p in _own(queryset, customer_id)}
    return [found[passport_id] for passport_id in passport_ids if passport_id in found]


def passport_events(*, passport: DevicePassport) -> QuerySet[PassportEvent]:
    """The device's history, oldest first, with its attachments."""
    return (
        PassportEvent.objects.filter(organization_id=passport.organization_id, passport=passport)
        .select_related("by")
        .prefetch_related("attachments")
        .order_by("occurred_at", "at", "id")
    )


def passport_attachments(*, passport: DevicePassport) -> QuerySet[PassportAttachment]:
    """The device's own documents and photos (not its steps' nor its service requests')."""
    return PassportAttachment.objects.filter(
        organization_id=passport.organization_id, passport=passport, event__isnull=True, service_request__isnull=True
    ).order_by("created_at", "id")


def attachment_get(*, organization_id: UUID, attachment_id: UUID) -> PassportAttachment:
    attachment = PassportAttachment.objects.filter(organization_id=organization_id, id=attachment_id).first()
    if attachment is None:
        raise NotFound("Attachment not found.")
    return attachment


def passport_scan_summary(*, passport: DevicePassport) -> dict:
    """How often the device's public page was opened since the current owner has it, and when last."""
    summary = PassportScan.objects.filter(organization_id=passport.organization_id, passport=passport).aggregate(
        total=Count("id"), last_at=Max("scanned_at")
    )
    return {"total": summary["total"], "last_at": summary["last_at"]}


def takeover_list(*, organization_id: UUID, direction: str = "") -> QuerySet[PassportTakeover]:
    """Claims on the organization's devices (`incoming`), its own claims (`outgoing`), or both."""
    queryset = PassportTakeover.objects.visible_to(organization_id)
    if direction == "incoming":
        queryset = queryset.filter(from_organization_id=organization_id)
    elif direction == "outgoing":
        queryset = queryset.filter(to_organization_id=organization_id)
    return queryset.order_by("-created_at", "-id")


def takeover_get(*, organization_id: UUID, takeover_id: UUID) -> PassportTakeover:
    takeover = PassportTakeover.objects.visible_to(organization_id).filter(id=takeover_id).first()
    if takeover is None:
        raise NotFound("Takeover request not found.")
    return takeover


def takeover_staff_queue() -> QuerySet[PassportTakeover]:
    """Pending claims of every organization, oldest first (staff, in the all-tenants scope)."""
    return PassportTakeover.objects.filter(status="pending").order_by("created_at", "id")


def service_request_list(
    *, organization_id: UUID, requested_by: UUID | None = None
) -> QuerySet[PassportServiceRequest]:
    queryset = PassportServiceRequest.objects.filter(organization_id=organization_id)
    if requested_by is not None:
        queryset = queryset.filter(requested_by_id=requested_by)
    return queryset.prefetch_related("attachments").order_by("-created_at", "-id")


def service_request_get(
    *, organization_id: UUID, service_request_id: UUID, requested_by: UUID | None = None
) -> PassportServiceRequest:
    request = (
        service_request_list(organization_id=organization_id, requested_by=requested_by)
        .filter(id=service_request_id)
        .first()
    )
    if request is None:
        raise NotFound("Service request not found.")
    return request
