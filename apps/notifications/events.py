"""Domain events of the notifications context (payloads are built here only)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class Broadcast(DomainEvent):
    """Staff's message to people: the users named, and the members (with one of `roles`, or
    any role) of the organizations named. Told as the `system.alert` type."""

    event_type = "notification.broadcast"
    aggregate_type = "broadcast"
    broadcast_id: str
    title: str
    body: str
    user_ids: list[str]
    organization_ids: list[str]
    roles: list[str]

    def aggregate_id(self) -> str:
        return self.broadcast_id
