"""Domain events of device passports (payloads built here only), written to the outbox by the
services: notifications tell the owner (and a claimant), webhooks pass them on, the live feed
shows a device moving."""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PassportDomainEvent(DomainEvent):
    aggregate_type = "passport"
    passport_id: str
    code: str

    def aggregate_id(self) -> str:
        return self.passport_id


@dataclass(frozen=True, kw_only=True)
class PassportRegistered(PassportDomainEvent):
    event_type = "passport.registered"
    device_name: str
    manufacturer: str
    serial_number: str
    status: str


@dataclass(frozen=True, kw_only=True)
class PassportUpdated(PassportDomainEvent):
    event_type = "passport.updated"
    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class PassportLifecycleRecorded(PassportDomainEvent):
    """A lifecycle step was recorded; `from_status`/`to_status` are equal when the step left
    the status where it was (serviced, transferred)."""

    event_type = "passport.lifecycle_recorded"
    event_id: str
    kind: str
    from_status: str
    to_status: str
    occurred_at: str


@dataclass(frozen=True, kw_only=True)
class TakeoverEvent(PassportDomainEvent):
    aggregate_type = "passport_takeover"
    takeover_id: str
    device_name: str
    # The owner at the time and the claimant: notifications tell both sides.
    party_organization_ids: list[str]
    from_organization_id: str
    to_organization_id: str
    to_organization_name: str

    def aggregate_id(self) -> str:
        return self.takeover_id


@dataclass(frozen=True, kw_only=True)
class PassportTakeoverRequested(TakeoverEvent):
    event_type = "passport.takeover_requested"


@dataclass(frozen=True, kw_only=True)
class PassportTakeoverDecided(TakeoverEvent):
    """The owner (or staff) approved or rejected the claim, or the claimant withdrew it."""

    event_type = "passport.takeover_decided"
    status: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PassportServiceRequested(PassportDomainEvent):
    event_type = "passport.service_requested"
    service_request_id: str
    number: str
    device_name: str
    source: str


@dataclass(frozen=True, kw_only=True)
class PassportServiceRequestStatusChanged(PassportDomainEvent):
    event_type = "passport.service_request_status_changed"
    service_request_id: str
    number: str
    from_status: str
    to_status: str
