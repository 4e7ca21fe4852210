"""Domain events of field service (payloads built here only), written to the outbox by the
services: notifications tell the customer and the expert, points reward completed work, the
live feed pushes offers to RUSHING experts (`user.<id>`), webhooks pass them on."""

from __future__ import annotations

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ExpertEvent(DomainEvent):
    aggregate_type = "expert"
    expert_id: str
    code: str
    user_id: str

    def aggregate_id(self) -> str:
        return self.expert_id


@dataclass(frozen=True, kw_only=True)
class ExpertRegistered(ExpertEvent):
    event_type = "expert.registered"
    expert_type: str
    skills: list[str]


@dataclass(frozen=True, kw_only=True)
class ExpertUpdated(ExpertEvent):
    event_type = "expert.updated"
    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class ExpertWorkStatusChanged(ExpertEvent):
    event_type = "expert.work_status_changed"
    from_status: str
    to_status: str


@dataclass(frozen=True, kw_only=True)
class ExpertMembershipChanged(ExpertEvent):
    """A membership granted, renewed, or dropped to FREE when it expired (`expired`)."""

    event_type = "expert.membership_changed"
    from_level: str
    to_level: str
    expires_at: str | None
    expired: bool


@dataclass(frozen=True, kw_only=True)
class ServiceOrderEvent(DomainEvent):
    aggregate_type = "service_order"
    service_order_id: str
    number: str
    title: str
    # The customer organization and (once assigned) the expert's: notifications tell the other.
    party_organization_ids: list[str]
    # The customer organization by name, whichever side acts (the outbox row is the actor's).
    customer_organization_id: str
    customer_id: str | None
    expert_id: str | None
    expert_user_id: str | None

    def aggregate_id(self) -> str:
        return self.service_order_id


@dataclass(frozen=True, kw_only=True)
class ServiceOrderCreated(ServiceOrderEvent):
    event_type = "service_order.created"
    urgency: str
    required_skill: str
    passport_id: str | None
    service_request_id: str | None


@dataclass(frozen=True, kw_only=True)
class ServiceOrderUpdated(ServiceOrderEvent):
    event_type = "service_order.updated"
    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class ServiceOrderStatusChanged(ServiceOrderEvent):
    """Every move of the lifecycle; `action` says which (assign, accept, decline, start,
    complete, cancel)."""

    event_type = "service_order.status_changed"
    from_status: str
    to_status: str
    action: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ServiceOrderCompleted(ServiceOrderEvent):
    """The work is done and signed off (also a status_changed): points reward the expert, the
    referral of the customer's organization may be rewarded (its first completed order)."""

    event_type = "service_order.completed"
    completed_at: str
    passport_id: str | None


@dataclass(frozen=True, kw_only=True)
class ServiceOrderOffered(ServiceOrderEvent):
    """A live offer to RUSHING experts (round `offer_round`): `user_ids` are theirs, told on
    `user.<id>` and by notification; the first to accept gets the order."""

    event_type = "service_order.offered"
    urgency: str
    offer_round: int
    user_ids: list[str]
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class ServiceOrderOfferClosed(ServiceOrderEvent):
    """The offer is no longer open to `user_ids` (another expert took it, the customer assigned
    or cancelled it, or the round expired): their apps take it off the screen."""

    event_type = "service_order.offer_closed"
    user_ids: list[str]
    outcome: str
