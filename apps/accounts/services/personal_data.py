"""A person's rights over their data: an export of everything the platform holds about
them, built by a worker, and erasure after a grace period (docs/accounts.md, "Personal data").

Other contexts are reached through their `personal_data` modules (reads for the export,
the few writes of an erasure); what a person did across organizations, former ones
included, is read in the audited all-tenants scope, by the job acting for that person.
"""

from __future__ import annotations

import hashlib
import json
import logging
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import events
from apps.accounts.models import AuthSession, BackupCodeDevice, ErasureRequest, PersonalDataExport
from apps.accounts.services.sessions import sessions_revoke_all
from apps.core.actors import Actor
from apps.core.audit import audit_entries_of_person, audit_erase_person, audit_record
from apps.core.context import system_scope
from apps.core.errors import InvalidStateTransition, NotFound, ValidationFailed
from apps.core.models import OutboxEvent
from apps.core.personal_data import erasure_refusal, erasure_steps_run, personal_data_sections
from apps.core.services import outbox_publish

logger = logging.getLogger(__name__)
User = get_user_model()

EXPORT_FORMAT = "manifest.personal-data/1"
EXPORT_REASON = "personal data export"
ERASURE_REASON = "personal data erasure"


def _publish_status(request: ErasureRequest, *, actor_id: UUID | None) -> None:
    # A person's event belongs to no organization: its outbox row is written in the
    # all-tenants scope (a tenant's scope may only write rows of its organization).
    event = events.ErasureRequestStatusChanged(
        organization_id=None, erasure_request_id=request.id, user_id=request.user_id, status=request.status
    )
    with system_scope(reason="personal data: erasure request event", actor_id=actor_id):
        outbox_publish(event)


def tombstone_email(user_id: UUID) -> str:
    """What an erased user's address becomes: unique, and undeliverable by definition (RFC 2606)."""
    return f"erased-{user_id}@invalid"


# --- Export ------------------------------------------------------------------------------------


def _export_is_current(export: PersonalDataExport | None, now) -> bool:
    if export is None:
        return False
    if export.status == PersonalDataExport.Status.PENDING:
        return True
    return (
        export.status == PersonalDataExport.Status.READY and export.expires_at is not None and export.expires_at > now
    )


@transaction.atomic
def personal_data_export_start(*, user_id: UUID) -> PersonalDataExport:
    """Queue a new export of the person's data, or return the one being built (one at a time)."""
    from apps.accounts import tasks  # tasks import the services

    # The user row's lock makes two simultaneous requests queue one export, not two.
    User.objects.select_for_update().filter(pk=user_id).first()
    pending = PersonalDataExport.objects.filter(user_id=user_id, status=PersonalDataExport.Status.PENDING).first()
    if pending is not None:
        return pending
    try:
        with transaction.atomic():
            export = PersonalDataExport.objects.create(user_id=user_id)
    except IntegrityError:  # another request queued one between our read and write
        return PersonalDataExport.objects.get(user_id=user_id, status=PersonalDataExport.Status.PENDING)
    audit_record(action="personal_data.export_requested", resource_type="user", resource_id=user_id, actor_id=user_id)
    export_id = str(export.id)
    transaction.on_commit(lambda: tasks.personal_data_export_build.delay(export_id))
    return export


@transaction.atomic
def personal_data_export_current(*, user_id: UUID) -> PersonalDataExport:
    """The export `GET /me/export` shows: the one being built, else the latest ready one
    still downloadable; with neither, a new one is queued."""
    from apps.accounts.selectors import personal_data_export_latest

    latest = personal_data_export_latest(user_id=user_id)
    if _export_is_current(latest, timezone.now()):
        return latest
    return personal_data_export_start(user_id=user_id)


def personal_data_collect(*, user_id: UUID) -> dict:
    """Everything the platform holds about the person, as JSON-ready data, read through
    each context's personal_data module. Runs inside the all-tenants scope."""
    user = User.objects.get(pk=user_id)
    return {
        "format": EXPORT_FORMAT,
        "generated_at": timezone.now(),
        "profile": {
            "id": user.id,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": user.phone,
            "timezone": user.timezone,
            "language": user.language,
            "is_active": user.is_active,
            "email_verified_at": user.email_verified_at,
            "password_changed_at": user.password_changed_at,
            "last_login": user.last_login,
            "created_at": user.created_at,
        },
        "sessions": list(
            AuthSession.objects.filter(user_id=user_id)
            .order_by("created_at")
            .values(
                "id", "method", "ip_address", "user_agent", "created_at", "last_used_at", "expires_at", "revoked_at"
            )
        ),
        "two_factor_devices": _two_factor_devices(user_id),
        # memberships, invitations, orders, rfqs, offers, escrows, kyc_documents_uploaded, ...:
        # what each context registered with apps.core.personal_data.
        **personal_data_sections(user_id=user_id, email=user.email),
        "audit_log": audit_entries_of_person(user_id=user_id),
        "erasure_requests": list(
            ErasureRequest.objects.filter(user_id=user_id)
            .order_by("requested_at")
            .values("id", "status", "requested_at", "due_at", "cancelled_at", "completed_at")
        ),
    }


def _two_factor_devices(user_id: UUID) -> list[dict]:
    """Which second factors exist and when they were confirmed; never a secret or a code."""
    devices = [
        {"kind": "authenticator", "name": device.name, "confirmed": device.confirmed, "created_at": device.created_at}
        for device in TOTPDevice.objects.filter(user_id=user_id).order_by("id")
    ]
    devices += [
        {"kind": "backup_codes", "unused_codes": len(device.code_hashes), "created_at": device.created_at}
        for device in BackupCodeDevice.objects.filter(user_id=user_id).order_by("id")
    ]
    return devices


def personal_data_export_build(*, export_id: UUID) -> PersonalDataExport:
    """Build a pending export's archive and store it privately (ready), or record why not
    (failed). Idempotent: an export that is no longer pending is returned as it is.

    Acts for the person across every organization (the audited all-tenants scope)."""
    with system_scope(reason=EXPORT_REASON):
        export = PersonalDataExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None:
            raise NotFound("Export not found.")
        if export.status != PersonalDataExport.Status.PENDING:
            return export
        try:
            archive = json.dumps(
                personal_data_collect(user_id=export.user_id), cls=DjangoJSONEncoder, ensure_ascii=False, indent=1
            ).encode()
        except Exception:
            logger.exception("personal_data.export_failed", extra={"export_id": str(export.id)})
            export.status = PersonalDataExport.Status.FAILED
            export.failure_reason = "The archive could not be built (internal error)."
            export.completed_at = timezone.now()
            export.save()
            return export
        export.file.save(f"{export.id}.json", ContentFile(archive), save=False)
        export.sha256 = hashlib.sha256(archive).hexdigest()
        export.size_bytes = len(archive)
        export.status = PersonalDataExport.Status.READY
        export.completed_at = timezone.now()
        export.expires_at = export.completed_at + settings.PERSONAL_DATA_EXPORT_RETENTION
        export.save()
        outbox_publish(
            events.PersonalDataExportReady(organization_id=None, export_id=export.id, user_id=export.user_id)
        )
        logger.info("personal_data.export_ready", extra={"export_id": str(export.id), "bytes": len(archive)})
        return export


def personal_data_exports_expire() -> int:
    """Remove the files of ready exports past their `expires_at` (beat job); returns how many."""
    expired = 0
    with system_scope(reason="personal data exports expiry"):
        due = PersonalDataExport.objects.select_for_update(skip_locked=True).filter(
            status=PersonalDataExport.Status.READY, expires_at__lte=timezone.now()
        )
        for export in due:
            _export_forget(export)
            expired += 1
    return expired


def _export_forget(export: PersonalDataExport) -> None:
    if export.file:
        export.file.delete(save=False)
    export.status = PersonalDataExport.Status.EXPIRED
    export.save(update_fields=["file", "status"])


# --- Erasure -----------------------------------------------------------------------------------


@transaction.atomic
def erasure_request_create(*, user, password: str) -> ErasureRequest:
    """Schedule the person's erasure after the grace period (settings.PERSONAL_DATA_ERASURE_GRACE).

    Asks for the password again: a stolen access token alone cannot erase an account.
    Refused (422) while the person is the only admin of an organization others still
    work in. A request already scheduled is returned as it is.
    """
    if not password or not user.check_password(password):
        raise ValidationFailed("The password is incorrect.", details={"password": ["Incorrect."]})
    User.objects.select_for_update().filter(pk=user.pk).first()
    scheduled = ErasureRequest.objects.filter(user_id=user.pk, status=ErasureRequest.Status.SCHEDULED).first()
    if scheduled is not None:
        return scheduled
    # The other members of the person's organizations are outside the person's own scope.
    with system_scope(reason="erasure: organizations left without an admin", actor_id=user.pk, audit=False):
        refusal = erasure_refusal(user_id=user.pk)
    if refusal is not None:
        raise refusal
    request = ErasureRequest.objects.create(
        user_id=user.pk, due_at=timezone.now() + settings.PERSONAL_DATA_ERASURE_GRACE
    )
    audit_record(
        action="user.erasure_requested",
        resource_type="user",
        resource_id=user.pk,
        actor_id=user.pk,
        new_values={"erasure_request_id": str(request.id), "due_at": request.due_at.isoformat()},
    )
    _publish_status(request, actor_id=user.pk)
    return request


@transaction.atomic
def erasure_request_cancel(*, user_id: UUID) -> ErasureRequest:
    """The person changes their mind during the grace period."""
    request = (
        ErasureRequest.objects.select_for_update()
        .filter(user_id=user_id, status=ErasureRequest.Status.SCHEDULED)
        .first()
    )
    if request is None:
        raise NotFound("There is no scheduled erasure to cancel.")
    request.status = ErasureRequest.Status.CANCELLED
    request.cancelled_at = timezone.now()
    request.save(update_fields=["status", "cancelled_at"])
    audit_record(
        action="user.erasure_cancelled",
        resource_type="user",
        resource_id=user_id,
        actor_id=user_id,
        new_values={"erasure_request_id": str(request.id)},
    )
    _publish_status(request, actor_id=user_id)
    return request


def erasure_request_refuse(*, request_id: UUID, actor: Actor, note: str) -> ErasureRequest:
    """Platform staff refuse a scheduled erasure, saying why (a legal hold, an open dispute)."""
    if not note.strip():
        raise ValidationFailed("Say why the erasure is refused.", details={"staff_note": ["Required."]})
    with system_scope(reason=ERASURE_REASON, actor_id=actor.user_id):
        request = ErasureRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotFound("Erasure request not found.")
        if request.status != ErasureRequest.Status.SCHEDULED:
            raise InvalidStateTransition(f"The request is {request.status}; only a scheduled one can be refused.")
        request.status = ErasureRequest.Status.REFUSED
        request.handled_by_id = actor.user_id
        request.staff_note = note.strip()
        request.save(update_fields=["status", "handled_by", "staff_note"])
        audit_record(
            action="user.erasure_refused",
            resource_type="user",
            resource_id=request.user_id,
            actor=actor,
            new_values={"erasure_request_id": str(request.id)},
        )
        _publish_status(request, actor_id=actor.user_id)
        return request


def erasure_request_note(*, request_id: UUID, actor: Actor, note: str) -> ErasureRequest:
    """Platform staff write down what they know of a request (the reason to refuse it, a legal
    hold being checked); audited, since the note may decide whether a person is erased."""
    with system_scope(reason=ERASURE_REASON, actor_id=actor.user_id):
        request = ErasureRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotFound("Erasure request not found.")
        note = note.strip()
        if note == request.staff_note:
            return request
        old_note, request.staff_note = request.staff_note, note
        request.save(update_fields=["staff_note"])
        audit_record(
            action="user.erasure_noted",
            resource_type="user",
            resource_id=request.user_id,
            actor=actor,
            old_values={"staff_note": old_note},
            new_values={"erasure_request_id": str(request.id), "staff_note": note},
        )
        return request


def erasure_carry_out(*, request_id: UUID, actor: Actor) -> ErasureRequest:
    """Erase the person of a scheduled request, now (staff) or when due (the beat job, `Actor.system()`).

    The user row stays, anonymized, so that what others and the ledger need (orders,
    escrows, journal entries, audit entries) keeps pointing somewhere: it loses its
    e-mail (a tombstone), names, phone, password, staff rights and activity; the person's
    sessions are revoked (their tokens stop at once) and deleted, second factors and
    exports deleted, memberships ended, and the audit log keeps the acts without the
    person's identifiers, addresses or user agents. Idempotent: a completed request is
    returned as it is.
    """
    with system_scope(reason=ERASURE_REASON, actor_id=actor.user_id):
        request = ErasureRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotFound("Erasure request not found.")
        if request.status == ErasureRequest.Status.COMPLETED:
            return request
        if request.status != ErasureRequest.Status.SCHEDULED:
            raise InvalidStateTransition(f"The request is {request.status}; only a scheduled one is carried out.")
        user = User.objects.select_for_update().get(pk=request.user_id)
        identifiers = [value for value in (user.email, user.phone) if value]
        tombstone = tombstone_email(user.id)

        sessions_revoke_all(user_id=user.id, reason="erased")
        AuthSession.objects.filter(user_id=user.id).delete()  # their addresses and devices (refresh tokens cascade)
        TOTPDevice.objects.filter(user_id=user.id).delete()
        BackupCodeDevice.objects.filter(user_id=user.id).delete()
        exports = PersonalDataExport.objects.filter(user_id=user.id)
        _delete_files_on_commit([export.file.name for export in exports if export.file])
        exports.delete()
        erasure_steps_run(user_id=user.id, email=user.email, replacement=tombstone, actor=actor)
        _security_events_forget(user.id)

        user.email = tombstone
        user.first_name = user.last_name = user.phone = ""
        user.timezone, user.language = "UTC", "en"
        user.set_unusable_password()
        user.is_active = user.is_staff = user.is_superuser = False
        user.email_verified_at = user.password_changed_at = user.last_login = user.locked_until = None
        user.phone_verified_at = None
        user.failed_login_count = 0
        user.save()
        user.groups.clear()
        user.user_permissions.clear()

        # Last but one: the rows written above (revoked sessions, ended memberships) are scrubbed too.
        redacted = audit_erase_person(user_id=user.id, identifiers=identifiers, replacement=tombstone)
        request.status = ErasureRequest.Status.COMPLETED
        request.completed_at = timezone.now()
        request.handled_by_id = actor.user_id
        request.save(update_fields=["status", "completed_at", "handled_by"])
        audit_record(
            action="user.erased",
            resource_type="user",
            resource_id=user.id,
            actor=actor,
            new_values={"erasure_request_id": str(request.id), "audit_rows_redacted": redacted},
        )
        outbox_publish(events.UserErased(organization_id=None, user_id=user.id, erasure_request_id=request.id))
        logger.info("personal_data.erased", extra={"erasure_request_id": str(request.id)})
        return request


def _delete_files_on_commit(names: list[str]) -> None:
    # After commit: a rolled-back erasure must not have lost the person's archives.
    from django.core.files.storage import default_storage

    def delete():
        for name in names:
            default_storage.delete(name)

    if names:
        transaction.on_commit(delete)


def _security_events_forget(user_id: UUID) -> None:
    """The person's security events (apps.accounts.events.SecurityEvent) carry where they signed
    in from: the address and browser go; the acts stay."""
    for row in OutboxEvent.objects.filter(
        aggregate_type="user", aggregate_id=str(user_id), event_type__startswith="account."
    ):
        row.payload = {**row.payload, "ip_address": "", "user_agent": ""}
        row.save(update_fields=["payload"])


def erasure_carry_out_due() -> int:
    """Carry out every scheduled erasure past its grace period (beat job); returns how many.

    Each in its own transaction: one that fails is logged and retried at the next run."""
    with system_scope(reason="personal data erasures due", audit=False):
        due = list(
            ErasureRequest.objects.filter(
                status=ErasureRequest.Status.SCHEDULED, due_at__lte=timezone.now()
            ).values_list("id", flat=True)
        )
    done = 0
    for request_id in due:
        try:
            erasure_carry_out(request_id=request_id, actor=Actor.system())
            done += 1
        except Exception:
            logger.exception("personal_data.erasure_failed", extra={"erasure_request_id": str(request_id)})
    return done
