"""Writes of the tenancy context: organizations, members, feature flags."""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.guards import require_verified_email
from apps.accounts.services import user_get_by_email, user_register
from apps.core.audit import audit_record
from apps.core.context import system_scope, tenant_scope
from apps.core.errors import (
    DomainError,
    ErrorCode,
    FeatureDisabled,
    InvalidStateTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from apps.core.services import outbox_publish
from apps.core.updates import model_update
from apps.tenancy import events, tasks
from apps.tenancy.features import FEATURES, ToggledBy, feature_preconditions
from apps.tenancy.models import Invitation, Membership, Organization, OrganizationFeature
from apps.tenancy.organization_codes import organization_code_ensure  # noqa: F401 (the service of the use case)
from apps.tenancy.roles import Actor, Role, is_valid_permission
from apps.tenancy.selectors import active_admin_count, feature_cache_key, feature_states

ORGANIZATION_EDITABLE_FIELDS = (
    "name",
    "legal_name",
    "tax_id",
    "registration_number",
    "contact_email",
    "contact_phone",
    "website",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "business_type",
    "settings",
)
# What platform staff may change besides: the commercial terms and whether the
# organization may work at all. (verification_level belongs to KYC.)
STAFF_EDITABLE_FIELDS = (
    *ORGANIZATION_EDITABLE_FIELDS,
    "subscription_plan",
    "subscription_status",
    "is_active",
    "code",  # the passport-code letters, chosen by staff before the first passport (then fixed)
)


# --- Organizations -------------------------------------------------------------------------


@transaction.atomic
def organization_update(
    *, organization: Organization, actor: Actor, data: dict, by_staff: bool = False
) -> Organization:
    """Update the editable fields given in `data`; audited, and published as organization.updated.

    Keys outside the editable fields (STAFF_EDITABLE_FIELDS with `by_staff`) are ignored. The
    passport-code letters, once given, never change (printed labels carry them).
    """
    if organization.code and data.get("code", organization.code) != organization.code:
        raise ValidationFailed(
            "The organization's code is fixed once given: its device passports carry it.",
            details={"code": [f"Stays {organization.code}."]},
        )
    if "code" in data:
        data = {**data, "code": data["code"] or None}  # blank is no code (unique allows many NULLs)
    organization, _ = model_update(
        instance=organization,
        data=data,
        fields=STAFF_EDITABLE_FIELDS if by_staff else ORGANIZATION_EDITABLE_FIELDS,
        actor=actor,
        resource_type="organization",
        organization_id=organization.id,
        event=_organization_updated,
        full_clean=True,
        clean_exclude=["slug"],
    )
    return organization


def _organization_updated(organization: Organization, changed: list[str]) -> events.OrganizationUpdated:
    return events.OrganizationUpdated(organization_id=organization.id, changed_fields=sorted(changed))


@transaction.atomic
def organization_set_verification_level(*, organization_id: UUID, level: str, actor: Actor) -> Organization:
    """The KYC context reports the level the organization's approved documents reach."""
    organization = Organization.objects.select_for_update().get(pk=organization_id)
    organization, _ = model_update(
        instance=organization,
        data={"verification_level": level},
        fields=["verification_level"],
        actor=actor,
        resource_type="organization",
        audit_action="organization.verification_level_changed",
        organization_id=organization.id,
        event=_organization_updated,
        full_clean=True,
        clean_exclude=["slug"],
    )
    return organization


# --- Members -------------------------------------------------------------------------------


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationFailed(
            f"Unknown role {role!r}.", details={"role": [f"Choose one of: {', '.join(Role.values)}."]}
        )


def _check_permissions(permissions: list[str]) -> None:
    invalid = [p for p in permissions if not isinstance(p, str) or not is_valid_permission(p)]
    if invalid:
        raise ValidationFailed(
            "Permissions are strings resource:action or resource:action:own.",
            details={"extra_permissions": [f"Invalid: {', '.join(map(str, invalid))}."]},
        )


# --- Invitations -----------------------------------------------------------------------------
# Nobody joins an organization without saying yes: an org admin invites an e-mail address,
# the person who owns it accepts. Until then the organization learns nothing about them, not
# even whether the address has an account.

INVITATION_TRANSITIONS = {
    Invitation.Status.PENDING: {
        Invitation.Status.ACCEPTED,
        Invitation.Status.DECLINED,
        Invitation.Status.REVOKED,
        Invitation.Status.EXPIRED,
    },
}


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_move(invitation: Invitation, to_status: str, *, actor_id: UUID | None) -> None:
    """The invitation's one transition table; its history is the audit row written here."""
    now = timezone.now()
    if invitation.status == Invitation.Status.PENDING and invitation.expires_at <= now:
        raise InvalidStateTransition("The invitation has expired; ask the organization for a new one.")
    if to_status not in INVITATION_TRANSITIONS.get(invitation.status, set()):
        raise InvalidStateTransition(f"The invitation is {invitation.status}; it cannot become {to_status}.")
    old = invitation.status
    invitation.status, invitation.responded_at = to_status, now
    invitation.save(update_fields=["status", "responded_at", "updated_at"])
    audit_record(
        action=f"invitation.{to_status}",
        resource_type="invitation",
        resource_id=invitation.id,
        old_values={"status": old},
        new_values={"status": to_status},
        organization_id=invitation.organization_id,
        actor_id=actor_id,
    )


def _refuse_existing(organization: Organization, email: str) -> None:
    taken = DomainError(
        f"{email} is already a member of this organization or has a pending invitation.",
        code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
        status_code=400,
        details={"email": ["Already a member or invited."]},
    )
    if Membership.objects.filter(organization=organization, user__email__iexact=email, is_active=True).exists():
        raise taken
    now = timezone.now()
    # A pending invitation past its date no longer holds the address.
    Invitation.objects.filter(
        organization=organization, email=email, status=Invitation.Status.PENDING, expires_at__lte=now
    ).update(status=Invitation.Status.EXPIRED, updated_at=now)
    if Invitation.objects.filter(organization=organization, email=email, status=Invitation.Status.PENDING).exists():
        raise taken


@transaction.atomic
def invitation_create(
    *, organization: Organization, actor: Actor, email: str, role: str, notify: bool = True
) -> Invitation:
    """Invite whoever owns `email` to join with `role`; a membership exists only once they accept.

    The same work and the same answer whether or not the address has an account (no
    account enumeration): an account, if any, is only noted on the row so that its owner
    finds the invitation under /me/invitations. No account is created. The e-mail with the
    one-time link goes out after commit (`notify`).
    """
    if actor.user_id is not None:  # an invitation reaches a person outside the organization
        require_verified_email(user_id=actor.user_id, action="member.invite")
    _check_role(role)
    email = email.strip().lower()
    _refuse_existing(organization, email)
    invitee = user_get_by_email(email=email)
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                role=role,
                invitee=invitee if invitee is not None and invitee.is_active else None,
                invited_by_id=actor.user_id,
                token_hash=invitation_token_hash(token),
                expires_at=timezone.now() + settings.INVITATION_MAX_AGE,
            )
    except IntegrityError as error:  # a concurrent invitation of the same address won
        raise DomainError(
            f"{email} already has a pending invitation.",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
            status_code=400,
            details={"email": ["Already invited."]},
        ) from error
    audit_record(
        action="invitation.created",
        resource_type="invitation",
        resource_id=invitation.id,
        new_values={"email": email, "role": role},
        organization_id=organization.id,
        actor=actor,
    )
    outbox_publish(events.InvitationCreated(organization_id=organization.id, invitation_id=invitation.id, role=role))
    if notify:
        organization_id, invitation_id = str(organization.id), str(invitation.id)
        transaction.on_commit(lambda: tasks.send_invitation.delay(organization_id, invitation_id, token))
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Actor) -> Invitation:
    """The organization withdraws a pending invitation; its link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _invitation_move(invitation, Invitation.Status.REVOKED, actor_id=actor.user_id)
    outbox_publish(events.InvitationRevoked(organization_id=invitation.organization_id, invitation_id=invitation.id))
    return invitation


def _addressed_to(*, invitation_id: UUID, user) -> Invitation:
    """The user's own invitation (row-level security shows the invitee their rows only)."""
    invitation = Invitation.objects.filter(pk=invitation_id, invitee_id=user.id).first()
    if invitation is None:
        raise NotFound("Invitation not found.")
    # The account may hold an address its owner never proved (anyone can sign up with any
    # address): the e-mailed link proves it, or a confirmed address.
    require_verified_email(user_id=user.id, action="invitation.answer")
    return invitation


def _accept(*, organization_id: UUID, invitation_id: UUID, user) -> Membership:
    # The invitee is not a member yet: the writes happen in the inviting organization's
    # scope, entered only for an invitation already proven to be this user's.
    with tenant_scope(organization_id, user_id=user.id):
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
        if invitation.email != user.email.lower():
            raise NotFound("Invitation not found.")
        membership = Membership.objects.select_for_update().filter(organization_id=organization_id, user=user).first()
        if membership is not None and membership.is_active:
            raise InvalidStateTransition("You are already a member of this organization.")
        _invitation_move(invitation, Invitation.Status.ACCEPTED, actor_id=user.id)
        now = timezone.now()
        if membership is not None:  # a former member comes back with the role offered
            membership.role, membership.is_active = invitation.role, True
            membership.invited_by_id, membership.joined_at = invitation.invited_by_id, now
            membership.save(update_fields=["role", "is_active", "invited_by", "joined_at", "updated_at"])
        else:
            membership = Membership.objects.create(
                organization_id=organization_id,
                user=user,
                role=invitation.role,
                invited_by_id=invitation.invited_by_id,
                joined_at=now,
            )
        invitation.invitee, invitation.membership = user, membership
        invitation.save(update_fields=["invitee", "membership", "updated_at"])
        audit_record(
            action="member.joined",
            resource_type="membership",
            resource_id=membership.id,
            new_values={"role": membership.role, "invitation_id": str(invitation.id)},
            organization_id=organization_id,
            actor_id=user.id,
        )
        outbox_publish(
            events.MemberJoined(
                organization_id=organization_id,
                membership_id=membership.id,
                invitation_id=invitation.id,
                user_id=user.id,
                role=membership.role,
            )
        )
        return Membership.objects.select_related("organization").get(pk=membership.pk)


@transaction.atomic
def invitation_accept(*, invitation_id: UUID, user) -> Membership:
    """The invitee says yes (from /me/invitations): the membership is created, or a former
    one comes back, with the role offered. Needs a verified e-mail address."""
    invitation = _addressed_to(invitation_id=invitation_id, user=user)
    return _accept(organization_id=invitation.organization_id, invitation_id=invitation.id, user=user)


@transaction.atomic
def invitation_accept_by_token(*, token: str, user) -> Membership:
    """The invitee says yes through the e-mailed link, signed in with the invited address
    (an account made after the invitation included). The token works once."""
    # Nobody in the organization is known yet: find the row by the hash of a secret only
    # the mailbox's owner has, as a refresh token is found.
    with system_scope(reason="invitation looked up by the hash of its token", audit=False):
        found = (
            Invitation.objects.filter(token_hash=invitation_token_hash(token), status=Invitation.Status.PENDING)
            .values("id", "organization_id", "email")
            .first()
        )
    if found is None or found["email"] != user.email.lower():
        raise NotFound("Invitation not found.")
    return _accept(organization_id=found["organization_id"], invitation_id=found["id"], user=user)


@transaction.atomic
def invitation_decline(*, invitation_id: UUID, user) -> None:
    """The invitee says no; the organization sees only that the invitation was declined."""
    invitation = _addressed_to(invitation_id=invitation_id, user=user)
    # As in _accept: the invitee is no member, so the request has no tenant; the organization
    # is known only from an invitation already proven to be this user's.
    with tenant_scope(invitation.organization_id, user_id=user.id):
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        _invitation_move(invitation, Invitation.Status.DECLINED, actor_id=user.id)
        outbox_publish(
            events.InvitationDeclined(organization_id=invitation.organization_id, invitation_id=invitation.id)
        )


def invitation_mail(*, organization_id: UUID, invitation_id: UUID, token: str) -> bool:
    """Send the invitation's link to its address, if the invitation is still pending.

    Runs in the organization's scope, opened by its task (`send_invitation`)."""
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(pk=invitation_id, organization_id=organization_id, status=Invitation.Status.PENDING)
        .first()
    )
    if invitation is None:
        return False
    organization_name, role, expires_at = (
        invitation.organization.name,
        invitation.get_role_display(),
        invitation.expires_at,
    )
    link = f"{settings.FRONTEND_URL.rstrip('/')}/invitations/accept?{urlencode({'token': token})}"
    send_mail(
        f"{organization_name} invites you to Manifest",
        f"{organization_name} invites you to join them on Manifest as {role}.\n\n"
        f"To accept, sign in (or sign up) with this address and open this link before "
        f"{expires_at:%Y-%m-%d %H:%M} UTC:\n{link}\n\n"
        "(The page posts the token to POST /api/v1/invitations/accept.) You can also accept or "
        "decline under /api/v1/me/invitations once your address is verified.\n\n"
        "If you do not want to join, ignore this e-mail: nothing changes until you accept.",
        settings.DEFAULT_FROM_EMAIL,
        [invitation.email],
    )
    return True


def _ensure_an_admin_remains(membership: Membership, *, new_role: str | None, deactivating: bool) -> None:
    losing_admin = (
        membership.role == Role.ORG_ADMIN
        and membership.is_active
        and (deactivating or (new_role is not None and new_role != Role.ORG_ADMIN))
    )
    if losing_admin and active_admin_count(organization_id=membership.organization_id) <= 1:
        raise DomainError(
            "An organization must keep at least one active organization admin.",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
        )


@transaction.atomic
def member_update(
    *, membership: Membership, actor: Actor, role: str | None = None, extra_permissions: list[str] | None = None
) -> Membership:
    """Change a member's role and/or extra permissions."""
    if role is not None:
        _check_role(role)
    if extra_permissions is not None:
        _check_permissions(extra_permissions)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _ensure_an_admin_remains(membership, new_role=role, deactivating=False)
    old = {"role": membership.role, "extra_permissions": membership.extra_permissions}
    if role is not None:
        membership.role = role
    if extra_permissions is not None:
        membership.extra_permissions = sorted(set(extra_permissions))
    membership.save(update_fields=["role", "extra_permissions", "updated_at"])
    new = {"role": membership.role, "extra_permissions": membership.extra_permissions}
    audit_record(
        action="member.updated",
        resource_type="membership",
        resource_id=membership.id,
        old_values=old,
        new_values=new,
        organization_id=membership.organization_id,
        actor=actor,
    )
    outbox_publish(
        events.MemberUpdated(
            organization_id=membership.organization_id, membership_id=membership.id, role=membership.role
        )
    )
    return membership


def membership_close(*, membership: Membership, actor: Actor, reason: str | None = None) -> None:
    """Deactivate an active membership, audited and published. The caller holds its row
    lock and has made its own checks (the last admin for an org admin's act; none for an
    erasure, whose checks were made when it was asked for)."""
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    audit_record(
        action="member.deactivated",
        resource_type="membership",
        resource_id=membership.id,
        old_values={"is_active": True},
        new_values={"is_active": False} | ({"reason": reason} if reason else {}),
        organization_id=membership.organization_id,
        actor=actor,
    )
    outbox_publish(events.MemberDeactivated(organization_id=membership.organization_id, membership_id=membership.id))


@transaction.atomic
def member_deactivate(*, membership: Membership, actor: Actor) -> Membership:
    """Take a member out of the organization; the row stays for history."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.is_active:
        return membership
    _ensure_an_admin_remains(membership, new_role=None, deactivating=True)
    membership_close(membership=membership, actor=actor)
    return membership


# --- Feature flags -------------------------------------------------------------------------


def _feature_row(organization_id: UUID, name: str) -> OrganizationFeature:
    if name not in FEATURES:
        raise DomainError(f"Unknown feature {name!r}.", code=ErrorCode.NOT_FOUND, status_code=404)
    default = feature_states(organization_id=organization_id)[name]  # the catalogue's, after the KYC gate
    row, _ = OrganizationFeature.objects.select_for_update().get_or_create(
        organization_id=organization_id,
        name=name,
        defaults={"is_entitled": default.is_entitled, "is_enabled": default.is_enabled},
    )
    return row


def feature_cache_forget(*, organization_id: UUID) -> None:
    """Forget the organization's cached feature states: now, for this transaction's own
    reads, and after commit, against racing readers."""
    key = feature_cache_key(organization_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def _after_feature_change(organization_id: UUID, row: OrganizationFeature, old: dict, actor: Actor) -> None:
    new = {"is_entitled": row.is_entitled, "is_enabled": row.is_enabled, "config": row.config}
    audit_record(
        action="feature.changed",
        resource_type="feature",
        resource_id=row.name,
        old_values=old,
        new_values=new,
        organization_id=organization_id,
        actor=actor,
    )
    outbox_publish(
        events.FeatureChanged(
            organization_id=organization_id, name=row.name, is_entitled=row.is_entitled, is_enabled=row.is_enabled
        )
    )
    feature_cache_forget(organization_id=organization_id)


@transaction.atomic
def feature_set_enabled(
    *, organization_id: UUID, actor: Actor, name: str, enabled: bool | None = None, config: dict | None = None
) -> OrganizationFeature:
    """An org admin switches an entitled flag on or off (and may set its config)."""
    row = _feature_row(organization_id, name)
    if FEATURES[name].toggled_by == ToggledBy.STAFF:
        raise PermissionDenied(f"The feature {name!r} is switched by platform staff only.")
    if not row.is_entitled:
        raise FeatureDisabled(f"The organization is not entitled to {name!r}; ask platform staff to grant it.")
    if enabled and not row.is_enabled:
        for precondition in feature_preconditions(name):  # the KYC gate of escrow (apps.kyc.apps)
            precondition.require(organization_id=organization_id)
    old = {"is_entitled": row.is_entitled, "is_enabled": row.is_enabled, "config": row.config}
    if enabled is not None:
        row.is_enabled = enabled
    if config is not None:
        row.config = config
    row.updated_by_id = actor.user_id
    row.save()
    _after_feature_change(organization_id, row, old, actor)
    return row


@transaction.atomic
def feature_set_entitlement(
    *, organization_id: UUID, actor: Actor, name: str, entitled: bool, enabled: bool | None = None
) -> OrganizationFeature:
    """Platform staff grant or withdraw a feature (withdrawing also switches it off)."""
    row = _feature_row(organization_id, name)
    old = {"is_entitled": row.is_entitled, "is_enabled": row.is_enabled, "config": row.config}
    row.is_entitled = entitled
    if enabled is not None:
        row.is_enabled = enabled
    if not entitled:
        row.is_enabled = False
    if (row.is_entitled, row.is_enabled) == (old["is_entitled"], old["is_enabled"]):
        return row
    row.updated_by_id = actor.user_id
    row.save()
    _after_feature_change(organization_id, row, old, actor)
    return row


@transaction.atomic
def organization_create(
    *, actor: Actor, name: str, slug: str, admin_user_id: UUID | None = None, **fields
) -> Organization:
    """Create an organization (and its first admin). Needs the all-tenants scope: no tenant owns it yet."""
    organization = Organization(name=name, slug=slug, **fields)
    organization.full_clean()
    organization.save()
    if admin_user_id:
        Membership.objects.create(
            organization=organization, user_id=admin_user_id, role=Role.ORG_ADMIN, joined_at=timezone.now()
        )
    audit_record(
        action="organization.created",
        resource_type="organization",
        resource_id=organization.id,
        new_values={"name": name, "slug": slug},
        organization_id=organization.id,
        actor=actor,
    )
    outbox_publish(events.OrganizationCreated(organization_id=organization.id, name=name))
    return organization


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "organization"
    return f"{base}-{secrets.token_hex(3)}"


@transaction.atomic
def user_sign_up(
    *, email: str, password: str, first_name: str = "", last_name: str = "", organization_name: str = "", **extras: str
) -> None:
    """Sign a person up (accounts' user_register) and, given a name, create their organization
    with them as its org_admin. For a taken address nothing changes, as user_register says.
    `extras`: the sign-up fields other contexts registered (apps.core.sign_up: referral_code)."""
    user = user_register(email=email, password=password, first_name=first_name, last_name=last_name, extras=extras)
    if user is None or not organization_name:
        return
    # No tenant owns the organization before it exists: the all-tenants scope, audited.
    with system_scope(reason="sign-up creates the user's organization", actor_id=user.id):
        organization_create(
            actor=Actor(user_id=user.id),
            name=organization_name,
            slug=_unique_slug(organization_name),
            admin_user_id=user.id,
        )
