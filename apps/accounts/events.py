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
