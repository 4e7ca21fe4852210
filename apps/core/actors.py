"""Who acts in a service call: one type for members, platform staff and the system itself.

Every public service that records who did something takes `actor: Actor` (never a bare
`user_id`, `staff_user_id` or `reviewer_id`), so history rows, audit rows and events read the
same fields whoever called: an API view, an admin action, a consumer or a beat job.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    """The user (None for the system), the organization they act for, and their role there.

    Permissions are not decided here: `apps.tenancy.roles.actor_grant` reads the role matrix.
    """

    user_id: UUID | None
    organization_id: UUID | None = None
    role: str = ""
    extra_permissions: tuple[str, ...] = ()
    is_staff: bool = False

    @classmethod
    def of(cls, membership, *, user_id: UUID) -> Actor:
        """The member acting for their membership's organization, with its role and extras."""
        return cls(
            user_id=user_id,
            organization_id=membership.organization_id,
            role=membership.role,
            extra_permissions=tuple(membership.extra_permissions),
        )

    @classmethod
    def staff(cls, user_id: UUID, *, organization_id: UUID | None = None) -> Actor:
        """Platform staff acting in the back-office (on behalf of `organization_id` when given)."""
        return cls(user_id=user_id, organization_id=organization_id, is_staff=True)

    @classmethod
    def system(cls, *, organization_id: UUID | None = None) -> Actor:
        """A beat job or the outbox relay: nobody signed in, recorded as no user."""
        return cls(user_id=None, organization_id=organization_id)

    @property
    def is_system(self) -> bool:
        return self.user_id is None
