"""Domain events of webhooks (payloads are built here only)."""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class WebhookEndpointDisabled(DomainEvent):
    """The circuit breaker switched an endpoint off; its organization's admins are to be told
    (the notifications context maps it to them). organization_id is the endpoint's."""

    event_type = "webhook_endpoint.disabled"
    aggregate_type = "webhook_endpoint"
    endpoint_id: str
    url: str
    reason: str
    failures: int

    def aggregate_id(self) -> str:
        return self.endpoint_id
