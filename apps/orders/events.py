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


@dataclass(frozen=True, kw_only=True)
class PurchaseAgentAssigned(OrderEvent):
    event_type = "order.purchase_agent_assigned"
    purchase_agent_id: str | None


@dataclass(frozen=True, kw_only=True)
class ShipmentUpdated(OrderEvent):
    """The shipment changed before loading (or the carrier's part at any stage)."""

    event_type = "shipment.updated"
    fields: list[str]


@dataclass(frozen=True, kw_only=True)
class ShipmentAmended(OrderEvent):
    """The shipment changed after loading: an amendment, kept with its old and new values."""

    event_type = "shipment.amended"
    fields: list[str]
    amendment_id: str


@dataclass(frozen=True, kw_only=True)
class PackageReceived(DomainEvent):
    event_type = "package.received"
    aggregate_type = "package"
    package_id: str
    order_id: str
    tracking_number: str
    warehouse_id: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.package_id


@dataclass(frozen=True, kw_only=True)
class PackageStatusChanged(DomainEvent):
    """A package moved (left the warehouse, out for delivery, delivered); both parties told."""

    event_type = "package.status_changed"
    aggregate_type = "package"
    package_id: str
    order_id: str
    tracking_number: str
    from_status: str
    to_status: str
    location: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.package_id


@dataclass(frozen=True, kw_only=True)
class ArrivalUnmatched(DomainEvent):
    event_type = "package.arrival_unmatched"
    aggregate_type = "unmatched_arrival"
    arrival_id: str
    tracking_number: str
    warehouse_id: str

    def aggregate_id(self) -> str:
        return self.arrival_id


@dataclass(frozen=True, kw_only=True)
class ReturnEvent(DomainEvent):
    aggregate_type = "return"
    return_id: str
    order_id: str
    status: str
    note: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.return_id


@dataclass(frozen=True, kw_only=True)
class ReturnRequested(ReturnEvent):
    event_type = "return.requested"


@dataclass(frozen=True, kw_only=True)
class ReturnApproved(ReturnEvent):
    event_type = "return.approved"


@dataclass(frozen=True, kw_only=True)
class ReturnRejected(ReturnEvent):
    event_type = "return.rejected"


@dataclass(frozen=True, kw_only=True)
class ReturnReceived(ReturnEvent):
    event_type = "return.received"


@dataclass(frozen=True, kw_only=True)
class ReturnRefunded(ReturnEvent):
    event_type = "return.refunded"


RETURN_EVENTS = {
    "requested": ReturnRequested,
    "approved": ReturnApproved,
    "rejected": ReturnRejected,
    "received": ReturnReceived,
    "refunded": ReturnRefunded,
}
