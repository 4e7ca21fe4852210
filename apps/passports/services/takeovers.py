"""Takeover (seed 002 `device-takeover`): an organization that holds a device claims it with the
code and serial number printed on it; the owner, or platform staff when the owner is gone,
approves or rejects; the claimant may withdraw. On approval the ownership moves with the whole
history, and the previous owner no longer sees any record of the device."""

from __future__ import annotations

import hmac
import logging
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import system_scope
from apps.core.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.services import outbox_publish
from apps.passports.events import PassportTakeoverDecided, PassportTakeoverRequested
from apps.passports.locate import passport_locate
from apps.passports.models import (
    DevicePassport,
    EventKind,
    PassportAttachment,
    PassportEvent,
    PassportStatus,
    PassportTakeover,
    TakeoverStatus,
)
from apps.passports.transitions import CLAIMANT, OWNER, PASSPORT, STAFF, TAKEOVER

logger = logging.getLogger(__name__)

NO_SUCH_DEVICE = "No device has this passport code and serial number."


def _event(takeover: PassportTakeover, cls, *, organization_id: UUID, **fields):
    return cls(
        organization_id=organization_id,
        passport_id=str(takeover.passport_id),
        code=takeover.passport_code,
        takeover_id=str(takeover.id),
        device_name=takeover.device_name,
        party_organization_ids=[str(takeover.from_organization_id), str(takeover.to_organization_id)],
        from_organization_id=str(takeover.from_organization_id),
        to_organization_id=str(takeover.to_organization_id),
        to_organization_name=takeover.to_organization_name,
        **fields,
    )


@transaction.atomic
def takeover_request(*, actor: Actor, code: str, serial_number: str, message: str = "") -> PassportTakeover:
    """Claim the device with this code, proving possession with its serial number. The same 404
    whether the code is unknown or the serial number wrong (nothing is learnt by guessing);
    422 for a device already the claimant's or decommissioned; one pending claim per device and
    claimant. Publishes `passport.takeover_requested` (the owner is told)."""
    from apps.tenancy.selectors import organization_names

    if len(message or "") > 2000:
        raise ValidationFailed("The message is too long.", details={"message": ["At most 2000 characters."]})
    located = passport_locate(code=code)
    given = (serial_number or "").strip().upper().encode()
    if located is None or not hmac.compare_digest(given, located.serial_number.strip().upper().encode()):
        raise NotFound(NO_SUCH_DEVICE)
    if located.organization_id == actor.organization_id:
        raise DomainError(
            "This device is already your organization's.",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
            details={"code": ["Already yours."]},
        )
    if located.status == PassportStatus.DECOMMISSIONED:
        raise DomainError(
            "A decommissioned device changes hands no more.",
            code=ErrorCode.INVALID_STATE_TRANSITION,
            details={"status": ["decommissioned"]},
        )
    names = organization_names(organization_ids=[actor.organization_id])
    try:
        with transaction.atomic():
            takeover = PassportTakeover.objects.create(
                passport_id=located.passport_id,
                passport_code=located.code,
                device_name=located.device_name,
                from_organization_id=located.organization_id,
                to_organization_id=actor.organization_id,
                from_organization_name=located.organization_name,
                to_organization_name=names.get(actor.organization_id, ""),
                requested_by_id=actor.user_id,
                message=(message or "").strip(),
            )
    except IntegrityError as error:
        raise DomainError(
            "Your organization already has a pending claim on this device.",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
            details={"code": ["A claim is pending."]},
        ) from error
    history_record(takeover, transitions=TAKEOVER, from_status="", to_status=TakeoverStatus.PENDING, actor=actor)
    audit_record(
        action="passport.takeover_requested",
        resource_type="passport_takeover",
        resource_id=takeover.id,
        new_values={"passport_id": str(takeover.passport_id), "from_organization_id": str(located.organization_id)},
        organization_id=actor.organization_id,
        actor=actor,
    )
    outbox_publish(_event(takeover, PassportTakeoverRequested, organization_id=actor.organization_id))
    return takeover


def _takeover_locked(takeover_id: UUID) -> PassportTakeover:
    takeover = PassportTakeover.objects.select_for_update().filter(id=takeover_id).first()
    if takeover is None:
        raise NotFound("Takeover request not found.")
    return takeover


def _who(actor: Actor, takeover: PassportTakeover) -> str:
    if actor.is_staff and actor.organization_id is None:
        return STAFF
    if actor.organization_id == takeover.from_organization_id:
        return OWNER
    if actor.organization_id == takeover.to_organization_id:
        return CLAIMANT
    raise NotFound("Takeover request not found.")


def _transfer(takeover: PassportTakeover, *, actor: Actor, reason: str) -> None:
    """Move the device, its history and its files to the claimant. The new rows belong to
    another organization than the acting one, which its own scope may not write: this runs in
    the audited all-tenants scope, touching this device's rows only."""
    with system_scope(reason=f"passport takeover {takeover.id} approved", actor_id=actor.user_id):
        passport = DevicePassport.objects.select_for_update().get(id=takeover.passport_id)
        if passport.organization_id != takeover.from_organization_id:
            raise DomainError(
                "The device changed hands since the claim was made.",
                code=ErrorCode.INVALID_STATE_TRANSITION,
                details={"status": ["The claim is about a previous owner's device."]},
            )
        if passport.status == PassportStatus.DECOMMISSIONED:
            raise DomainError(
                "A decommissioned device changes hands no more.",
                code=ErrorCode.INVALID_STATE_TRANSITION,
                details={"status": ["decommissioned"]},
            )
        new_owner = takeover.to_organization_id
        PassportEvent.objects.filter(passport=passport).update(organization_id=new_owner)
        PassportAttachment.objects.filter(passport=passport, service_request__isnull=True).update(
            organization_id=new_owner
        )
        passport.organization_id = new_owner
        passport.customer = None  # a person of the previous owner
        passport.save(update_fields=["organization", "customer", "updated_at"])
        move(
            passport,
            passport.status,
            transitions=PASSPORT,
            actor=actor,
            who=EventKind.TRANSFERRED,
            reason=reason,
            history={
                "kind": EventKind.TRANSFERRED,
                "occurred_at": timezone.now(),
                "recorded_by_organization_id": takeover.from_organization_id,
                "recorded_by_organization_name": takeover.from_organization_name,
                "details": {
                    "takeover_id": str(takeover.id),
                    "from_organization_name": takeover.from_organization_name,
                    "to_organization_name": takeover.to_organization_name,
                },
            },
        )
        # Other claims on the device were about the previous owner's device: they end here.
        for other in (
            PassportTakeover.objects.select_for_update()
            .filter(passport=passport, status=TakeoverStatus.PENDING)
            .exclude(id=takeover.id)
        ):
            _decided(other, TakeoverStatus.REJECTED, actor=actor, who=STAFF, reason="Another claim was approved.")


@transaction.atomic
def takeover_decide(*, actor: Actor, takeover_id: UUID, approve: bool, reason: str = "") -> PassportTakeover:
    """The owner (or staff, acting for no organization) approves or rejects a pending claim.
    Approval moves the device to the claimant (`_transfer`) and records a `transferred` step.
    Publishes `passport.takeover_decided`."""
    takeover = _takeover_locked(takeover_id)
    who = _who(actor, takeover)
    target = TakeoverStatus.APPROVED if approve else TakeoverStatus.REJECTED
    TAKEOVER.check(takeover.status, target, who=who)
    if approve:
        _transfer(takeover, actor=actor, reason=reason)
    return _decided(takeover, target, actor=actor, who=who, reason=reason)


@transaction.atomic
def takeover_cancel(*, actor: Actor, takeover_id: UUID, reason: str = "") -> PassportTakeover:
    """The claimant withdraws its pending claim."""
    takeover = _takeover_locked(takeover_id)
    return _decided(takeover, TakeoverStatus.CANCELLED, actor=actor, who=_who(actor, takeover), reason=reason)


def _decided(takeover: PassportTakeover, target: str, *, actor: Actor, who: str, reason: str) -> PassportTakeover:
    takeover.decided_by_id = actor.user_id
    takeover.decided_at = timezone.now()
    takeover.decision_reason = (reason or "").strip()
    acting_organization = actor.organization_id or takeover.from_organization_id
    move(
        takeover,
        target,
        transitions=TAKEOVER,
        actor=actor,
        who=who,
        reason=takeover.decision_reason,
        save=["decided_by", "decided_at", "decision_reason", "updated_at"],
        audit={
            "action": f"passport.takeover_{target}",
            "resource_type": "passport_takeover",
            "organization_id": acting_organization,
        },
        event=lambda: _event(
            takeover,
            PassportTakeoverDecided,
            organization_id=acting_organization,
            status=target,
            reason=takeover.decision_reason,
        ),
    )
    logger.info("passport.takeover_decided", extra={"takeover_id": str(takeover.id), "status": target})
    return takeover
