"""Domain events of tracking (payloads are built here only). Alerts and milestones go through
the outbox (the notifications context turns them into messages); a location ping does not: it
is pushed to the shipment's live group directly, coalesced (apps/tracking/live.py).

`party_organization_ids` names who the live feed tells: the shipment's client and supplier.
`subject` is "order" or "package" and `subject_id` its id, so a subscriber of `order.<id>` or
`package.<id>` gets the event too.
"""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class TrackingEventBase(DomainEvent):
    aggregate_type = "tracked_shipment"
    shipment_id: str
    subject: str
    subject_id: str
    reference: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.shipment_id


@dataclass(frozen=True, kw_only=True)
class TrackingStarted(TrackingEventBase):
    event_type = "tracking.started"
    tracking_number: str


@dataclass(frozen=True, kw_only=True)
class MilestoneReached(TrackingEventBase):
    """A milestone of the way: picked up, a border crossed, arrived at a warehouse, delivered."""

    event_type = "tracking.milestone"
    milestone: str
    occurred_at: str
    tracking_event_id: str
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class AlertEvent(TrackingEventBase):
    alert_id: str
    alert_type: str
    severity: str
    status: str
    message: str


@dataclass(frozen=True, kw_only=True)
class AlertRaised(AlertEvent):
    event_type = "tracking.alert_raised"


@dataclass(frozen=True, kw_only=True)
class AlertWorsened(AlertEvent):
    """The condition of an open alert got worse (further off the route, longer out of the
    temperature range, later): its severity went up."""

    event_type = "tracking.alert_worsened"
    previous_severity: str


@dataclass(frozen=True, kw_only=True)
class AlertAcknowledged(AlertEvent):
    event_type = "tracking.alert_acknowledged"


@dataclass(frozen=True, kw_only=True)
class AlertResolved(AlertEvent):
    event_type = "tracking.alert_resolved"


@dataclass(frozen=True, kw_only=True)
class AlertEscalated(AlertEvent):
    """An open high or critical alert nobody acknowledged in TRACKING["ESCALATE_AFTER"]."""

    event_type = "tracking.alert_escalated"
