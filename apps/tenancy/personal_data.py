"""What the tenancy context holds about one person, and how it forgets them (docs/accounts.md,
"Personal data"): the reads of a personal data export and the writes of an erasure.

Called by apps.accounts.services.personal_data inside the audited all-tenants scope: a
person's memberships and acts span organizations, former ones included.
"""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.db.models import Count, Q

from apps.core.actors import Actor
from apps.core.errors import DomainError, ErrorCode
from apps.tenancy.models import Invitation, Membership
from apps.tenancy.roles import Role


def memberships_of_person(*, user_id: UUID) -> list[dict]:
    """Every membership the person has or had, with the organization's name."""
    return list(
        Membership.objects.filter(user_id=user_id)
        .order_by("created_at")
        .values(
            "id",
            "organization_id",
            "organization__name",
            "role",
            "extra_permissions",
            "is_active",
            "joined_at",
            "created_at",
        )
    )


def invitations_of_person(*, user_id: UUID, email: str) -> list[dict]:
    """Invitations addressed to the person: to their account, or to their address before they had one."""
    return list(
        Invitation.objects.filter(Q(invitee_id=user_id) | Q(email=email.strip().lower()))
        .order_by("created_at")
        .values("id", "organization_id", "organization__name", "email", "role", "status", "expires_at", "responded_at")
    )


def erasure_blockers(*, user_id: UUID) -> list[dict]:
    """Organizations the person is the only active admin of while others still work there:
    erasing them would leave those members with nobody to manage the organization."""
    administered = Membership.objects.filter(user_id=user_id, role=Role.ORG_ADMIN, is_active=True).values(
        "organization_id"
    )
    return list(
        Membership.objects.filter(organization_id__in=administered, is_active=True)
        .values("organization_id", "organization__name")
        .annotate(
            admins=Count("id", filter=Q(role=Role.ORG_ADMIN)),
            others=Count("id", filter=~Q(user_id=user_id)),
        )
        .filter(admins=1, others__gt=0)
        .order_by("organization__name")
        .values("organization_id", "organization__name")
    )


@transaction.atomic
def person_memberships_end(*, user_id: UUID, actor: Actor) -> int:
    """Deactivate every active membership of an erased person; returns how many.

    No last-admin check here: it was made when the erasure was asked for
    (`erasure_blockers`); an organization left with no admin since is staff's to mend."""
    from apps.tenancy.services import membership_close  # tenancy's services import accounts'

    memberships = list(Membership.objects.select_for_update().filter(user_id=user_id, is_active=True).order_by("pk"))
    for membership in memberships:
        membership_close(membership=membership, actor=actor, reason="erasure")
    return len(memberships)


@transaction.atomic
def person_invitations_forget(*, user_id: UUID, email: str, replacement: str) -> int:
    """Take the person out of the invitations addressed to them; returns how many.

    The inviting organization keeps the row (that it invited someone, with which role, and
    what became of it), addressed to the tombstone instead of the person; a pending one is
    revoked, and its e-mailed link stops working with it (the status is checked on accept)."""
    invitations = list(
        Invitation.objects.select_for_update()
        .filter(Q(invitee_id=user_id) | Q(email=email.strip().lower()))
        .order_by("pk")
    )
    for invitation in invitations:
        invitation.email = replacement
        if invitation.status == Invitation.Status.PENDING:
            invitation.status = Invitation.Status.REVOKED
        invitation.save(update_fields=["email", "status", "updated_at"])
    return len(invitations)


def erasure_refusal(*, user_id: UUID) -> DomainError | None:
    """Registered with apps.core.personal_data: refuses the erasure of an organization's only
    admin while others still work there (make one of them an admin first)."""
    blockers = erasure_blockers(user_id=user_id)
    if not blockers:
        return None
    return DomainError(
        "You are the only admin of an organization whose other members still work there: "
        "make one of them an admin first.",
        code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
        details={
            "organizations": [{"id": str(b["organization_id"]), "name": b["organization__name"]} for b in blockers]
        },
    )


def person_forget(*, user_id: UUID, email: str, replacement: str, actor: Actor) -> None:
    """Registered with apps.core.personal_data: at the erasure, end the person's memberships
    and take them out of the invitations addressed to them."""
    person_memberships_end(user_id=user_id, actor=actor)
    person_invitations_forget(user_id=user_id, email=email, replacement=replacement)
