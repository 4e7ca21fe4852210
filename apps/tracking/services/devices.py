"""An organization's telematics devices: registered with a key shown once, revoked, assigned to
a shipment for a time window.

A key is `mfd_` and 32 random bytes (URL-safe). Only its first characters (to tell keys apart)
and its SHA-256 digest are stored; apps/tracking/device_auth.py checks a presented key by its
digest. Each device is its organization's (row-level security `Owned`), and may be assigned
only to shipments the organization is a party of, one window at a time."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.tenancy.roles import Actor
from apps.tracking.models import Device, DeviceAssignment, TrackedShipment

KEY_PREFIX = "mfd_"
KEY_PREFIX_SHOWN = 12  # Device.key_prefix: "mfd_" and 8 characters of the key
# last_seen_at is kept to this resolution: a device posting every second writes it once a minute.
SEEN_RESOLUTION = timedelta(minutes=1)


def key_digest(key: str) -> str:
    """What is stored and compared: the key's SHA-256 in hex. A 256-bit random key needs no
    slow hash: nobody can guess it, and the digest does not give it back."""
    return hashlib.sha256(key.encode()).hexdigest()


def _device_get(*, actor: Actor, device_id: UUID, lock: bool = False) -> Device:
    queryset = Device.objects.select_for_update() if lock else Device.objects
    device = queryset.filter(pk=device_id, organization_id=actor.organization_id).first()
    if device is None:
        raise NotFound("Device not found.")
    return device


@transaction.atomic
def device_register(*, actor: Actor, name: str, serial_number: str = "") -> tuple[Device, str]:
    """Register a device of the actor's organization: (device, key). The key is returned here
    once and never again: only its digest is kept."""
    name = name.strip()
    if not name:
        raise ValidationFailed("A device needs a name.", details={"name": ["This field may not be blank."]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    device = Device.objects.create(
        organization_id=actor.organization_id,
        name=name[:200],
        serial_number=serial_number.strip()[:100],
        key_prefix=key[:KEY_PREFIX_SHOWN],
        key_digest=key_digest(key),
        created_by_id=actor.user_id,
    )
    audit_record(
        action="tracking.device_registered",
        resource_type="tracking_device",
        resource_id=device.id,
        new_values={"name": device.name, "serial_number": device.serial_number, "key_prefix": device.key_prefix},
        organization_id=actor.organization_id,
        actor=actor,
    )
    return device, key


@transaction.atomic
def device_revoke(*, actor: Actor, device_id: UUID, reason: str = "") -> Device:
    """Revoke the device's key: it stops working with the next request. Revoking twice
    changes nothing the second time."""
    device = _device_get(actor=actor, device_id=device_id, lock=True)
    if device.revoked_at is not None:
        return device
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        action="tracking.device_revoked",
        resource_type="tracking_device",
        resource_id=device.id,
        old_values={"revoked_at": None},
        new_values={"revoked_at": device.revoked_at.isoformat(), "reason": reason[:500]},
        organization_id=actor.organization_id,
        actor=actor,
    )
    return device


def device_seen(*, device_id: UUID, now: datetime) -> None:
    """Note that the device reported. One statement that writes at most once per
    SEEN_RESOLUTION (the WHERE finds nothing in between): ingest calls it on every request.
    Not atomic on purpose: a savepoint would cost two round trips on the hot path."""
    Device.objects.filter(pk=device_id).filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now - SEEN_RESOLUTION)
    ).update(last_seen_at=now)


def _party_shipment(*, actor: Actor, shipment_id: UUID) -> TrackedShipment:
    """A tracked shipment the actor's organization is a party of (row-level security shows
    only those; the filter says it again), or 404."""
    shipment = (
        TrackedShipment.objects.filter(pk=shipment_id)
        .filter(Q(client_organization_id=actor.organization_id) | Q(supplier_organization_id=actor.organization_id))
        .first()
    )
    if shipment is None:
        raise NotFound("Tracked shipment not found.")
    return shipment


@transaction.atomic
def device_assign(
    *,
    actor: Actor,
    device_id: UUID,
    shipment_id: UUID,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> DeviceAssignment:
    """The device reports for the shipment from `valid_from` (default now) until `valid_until`
    (open: until unassigned). Locks the device row, so two assignments of one device are
    checked one after the other; a window overlapping another of the device's is refused."""
    device = _device_get(actor=actor, device_id=device_id, lock=True)
    if device.revoked_at is not None:
        raise DomainError("A revoked device cannot be assigned.")
    shipment = _party_shipment(actor=actor, shipment_id=shipment_id)
    if not shipment.is_active:
        raise DomainError("Tracking of this shipment has ended.")
    valid_from = valid_from or timezone.now()
    if valid_until is not None and valid_until <= valid_from:
        raise ValidationFailed(
            "The window must end after it starts.", details={"valid_until": ["Must be later than valid_from."]}
        )
    overlapping = DeviceAssignment.objects.filter(device=device).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=valid_from)
    )
    if valid_until is not None:
        overlapping = overlapping.filter(valid_from__lt=valid_until)
    clash = overlapping.first()
    if clash is not None:
        raise DomainError(
            "The device is assigned to another window that overlaps this one.",
            details={"assignment_id": [str(clash.id)]},
        )
    assignment = DeviceAssignment.objects.create(
        organization_id=actor.organization_id,
        device=device,
        shipment=shipment,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    audit_record(
        action="tracking.device_assigned",
        resource_type="tracking_device",
        resource_id=device.id,
        new_values={
            "assignment": str(assignment.id),
            "shipment": str(shipment.id),
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else None,
        },
        organization_id=actor.organization_id,
        actor=actor,
    )
    return assignment


@transaction.atomic
def device_unassign(*, actor: Actor, device_id: UUID, assignment_id: UUID) -> DeviceAssignment | None:
    """End the assignment now: the device's pings after this moment no longer go to the
    shipment. One that has not started yet is withdrawn (None). Ending an ended one is refused."""
    device = _device_get(actor=actor, device_id=device_id, lock=True)
    assignment = DeviceAssignment.objects.filter(pk=assignment_id, device=device).first()
    if assignment is None:
        raise NotFound("Assignment not found.")
    now = timezone.now()
    if assignment.valid_until is not None and assignment.valid_until <= now:
        raise DomainError("The assignment has ended already.")
    audit = {
        "action": "tracking.device_unassigned",
        "resource_type": "tracking_device",
        "resource_id": device.id,
        "old_values": {"valid_until": assignment.valid_until.isoformat() if assignment.valid_until else None},
        "organization_id": actor.organization_id,
        "actor": actor,
    }
    if assignment.valid_from >= now:
        audit_record(**audit, new_values={"assignment": str(assignment.id), "withdrawn": True})
        assignment.delete()
        return None
    assignment.valid_until = now
    assignment.save(update_fields=["valid_until", "updated_at"])
    audit_record(**audit, new_values={"assignment": str(assignment.id), "valid_until": now.isoformat()})
    return assignment
