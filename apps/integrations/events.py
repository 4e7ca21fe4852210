"""Domain events of platform integrations (payloads are built here only). The workflow engine
(a later issue) starts flows from them; the notifications catalogue tells org admins of a paused shop."""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PlatformOrderEvent(DomainEvent):
    aggregate_type = "order"
    order_id: str
    number: str
    platform: str
    shop_id: str
    external_id: str
    configuration_id: str
    status: str  # ours
    platform_status: str  # the platform's, as it sent it

    def aggregate_id(self) -> str:
        return self.order_id


@dataclass(frozen=True, kw_only=True)
class PlatformOrderImported(PlatformOrderEvent):
    event_type = "platform_order.imported"


@dataclass(frozen=True, kw_only=True)
class PlatformOrderUpdated(PlatformOrderEvent):
    event_type = "platform_order.updated"
    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class SyncFailed(DomainEvent):
    event_type = "sync.failed"
    aggregate_type = "platform_configuration"
    configuration_id: str
    platform: str
    shop_id: str
    shop_name: str
    run_id: str
    error_code: str
    error: str  # sanitized: never a credential
    consecutive_failures: int
    paused: bool  # the circuit breaker opened: no scheduled sync until its cooldown ends

    def aggregate_id(self) -> str:
        return self.configuration_id
