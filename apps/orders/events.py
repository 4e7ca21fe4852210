"""Domain events of the orders context (payloads are built here only)."""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrderEvent(DomainEvent):
    aggregate_type = "order"
    order_id: str
    number: str
    kind: str
    # Both parties: the live feed tells each (apps.tenancy.handlers).
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.order_id


@dataclass(frozen=True, kw_only=True)
class OrderCreated(OrderEvent):
    event_type = "order.created"
    status: str


@dataclass(frozen=True, kw_only=True)
class OrderStatusChanged(OrderEvent):
    event_type = "order.status_changed"
    from_status: str
    to_status: str
    note: str
