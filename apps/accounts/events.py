"""Domain events of the accounts context (payloads are built here only).

They concern a person, not an organization (`organization_id` is None): they are
published from the all-tenants scope of the job that makes them.
"""

from dataclasses import dataclass
from uuid import UUID

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PersonalDataExportReady(DomainEvent):
    """A notifier may tell the person their archive is ready (the link itself is asked for
    by the person through the API; the event carries no link)."""

    event_type = "personal_data.export_ready"
    aggregate_type = "personal_data_export"
    export_id: UUID
    user_id: UUID

    def aggregate_id(self) -> str:
        return str(self.export_id)


@dataclass(frozen=True, kw_only=True)
class UserErased(DomainEvent):
    """Consumers holding copies of the person's data (search index, notifications) drop them."""

    event_type = "user.erased"
    aggregate_type = "user"
    user_id: UUID
    erasure_request_id: UUID

    def aggregate_id(self) -> str:
        return str(self.user_id)


@dataclass(frozen=True, kw_only=True)
class ErasureRequestStatusChanged(DomainEvent):
    """An erasure was asked for (scheduled), cancelled by the person or refused by staff: a
    notifier tells the person, who may not have done it themselves (a stolen session)."""

    event_type = "erasure_request.status_changed"
    aggregate_type = "erasure_request"
    erasure_request_id: UUID
    user_id: UUID
    status: str

    def aggregate_id(self) -> str:
        return str(self.erasure_request_id)


@dataclass(frozen=True, kw_only=True)
class SecurityEvent(DomainEvent):
    """Something the person must hear of even if they did not do it (notifications tell them
    whatever their preferences say)."""

    aggregate_type = "user"
    user_id: UUID
    ip_address: str
    user_agent: str

    def aggregate_id(self) -> str:
        return str(self.user_id)


@dataclass(frozen=True, kw_only=True)
class SignedIn(SecurityEvent):
    event_type = "account.signed_in"
    method: str
    # No earlier session of the person came from this browser (user agent): worth telling.
    new_device: bool


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(SecurityEvent):
    event_type = "account.password_changed"
    how: str  # "changed" by the person signed in, or "reset" through the e-mailed link


@dataclass(frozen=True, kw_only=True)
class TwoFactorDisabled(SecurityEvent):
    event_type = "account.two_factor_disabled"
    by_staff: bool
