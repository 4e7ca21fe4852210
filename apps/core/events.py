"""Domain events: a dataclass per event, published through the outbox, handled by subscribers.

A context declares its events in its own events.py as subclasses of DomainEvent and
publishes them from services with `apps.core.services.outbox_publish(event)`; the row is written in the
caller's transaction, so the change and its event commit (or vanish) together.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable
from typing import ClassVar
from uuid import UUID

Handler = Callable[["OutboxEventLike"], None]
_handlers: list[tuple[str, str, Handler]] = []


class OutboxEventLike:  # the shape handlers receive (an OutboxEvent row)
    id: UUID
    organization_id: UUID | None
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict


@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainEvent:
    event_type: ClassVar[str]
    aggregate_type: ClassVar[str]

    organization_id: UUID | None

    def aggregate_id(self) -> str:
        raise NotImplementedError

    def payload(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("organization_id", None)
        return {key: str(value) if isinstance(value, UUID) else value for key, value in data.items()}


def subscribe(pattern: str, handler: Handler, *, name: str) -> None:
    """Register `handler` for event types matching `pattern` (fnmatch, e.g. "member.*").

    Handlers must be idempotent: delivery is at least once. Call from AppConfig.ready().
    """
    if any(existing == name for _, existing, _ in _handlers):
        return
    _handlers.append((pattern, name, handler))


def handlers_for(event_type: str) -> list[tuple[str, Handler]]:
    return [(name, handler) for pattern, name, handler in _handlers if fnmatch.fnmatch(event_type, pattern)]
