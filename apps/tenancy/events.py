"""Domain events of the tenancy context (payloads are built here only)."""

from dataclasses import dataclass
from uuid import UUID

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrganizationCreated(DomainEvent):
    event_type = "organization.created"
    aggregate_type = "organization"
    name: str

    def aggregate_id(self) -> str:
        return str(self.organization_id)


@dataclass(frozen=True, kw_only=True)
class OrganizationUpdated(DomainEvent):
    event_type = "organization.updated"
    aggregate_type = "organization"
    changed_fields: list[str]

    def aggregate_id(self) -> str:
        return str(self.organization_id)


@dataclass(frozen=True, kw_only=True)
class InvitationCreated(DomainEvent):
    """An address was invited. Nothing about the person: the organization's feed must not
    tell whether the address has an account."""

    event_type = "invitation.created"
    aggregate_type = "invitation"
    invitation_id: UUID
    role: str

    def aggregate_id(self) -> str:
        return str(self.invitation_id)


@dataclass(frozen=True, kw_only=True)
class InvitationDeclined(DomainEvent):
    event_type = "invitation.declined"
    aggregate_type = "invitation"
    invitation_id: UUID

    def aggregate_id(self) -> str:
        return str(self.invitation_id)


@dataclass(frozen=True, kw_only=True)
class InvitationRevoked(DomainEvent):
    event_type = "invitation.revoked"
    aggregate_type = "invitation"
    invitation_id: UUID

    def aggregate_id(self) -> str:
        return str(self.invitation_id)


@dataclass(frozen=True, kw_only=True)
class MemberJoined(DomainEvent):
    """The invitee accepted: from here on they are a member."""

    event_type = "member.joined"
    aggregate_type = "membership"
    membership_id: UUID
    invitation_id: UUID
    user_id: UUID
    role: str

    def aggregate_id(self) -> str:
        return str(self.membership_id)


@dataclass(frozen=True, kw_only=True)
class MemberUpdated(DomainEvent):
    event_type = "member.updated"
    aggregate_type = "membership"
    membership_id: UUID
    role: str

    def aggregate_id(self) -> str:
        return str(self.membership_id)


@dataclass(frozen=True, kw_only=True)
class MemberDeactivated(DomainEvent):
    event_type = "member.deactivated"
    aggregate_type = "membership"
    membership_id: UUID

    def aggregate_id(self) -> str:
        return str(self.membership_id)


@dataclass(frozen=True, kw_only=True)
class FeatureChanged(DomainEvent):
    event_type = "feature.changed"
    aggregate_type = "feature"
    name: str
    is_entitled: bool
    is_enabled: bool

    def aggregate_id(self) -> str:
        return f"{self.organization_id}:{self.name}"
