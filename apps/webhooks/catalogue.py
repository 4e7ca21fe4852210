"""The event types an endpoint may subscribe to: those of every DomainEvent subclass."""

from __future__ import annotations

import fnmatch
from functools import cache

from django.utils.module_loading import autodiscover_modules

from apps.core.events import DomainEvent


def _subclasses(cls: type) -> list[type]:
    found = []
    for subclass in cls.__subclasses__():
        found.append(subclass)
        found.extend(_subclasses(subclass))
    return found


@cache
def known_event_types() -> frozenset[str]:
    """Every event type a context publishes, from the DomainEvent subclasses of each installed
    app's events.py (imported here, so the answer does not depend on what happened to be
    imported before). Abstract bases that name no type are left out."""
    autodiscover_modules("events")
    return frozenset(
        cls.__dict__["event_type"]
        for cls in _subclasses(DomainEvent)
        if isinstance(cls.__dict__.get("event_type"), str)
    )


def unknown_patterns(patterns: list[str]) -> list[str]:
    """The patterns that match no known event type (a typo), in their order."""
    types = known_event_types()
    return [pattern for pattern in patterns if not fnmatch.filter(types, pattern)]


def matches(patterns: list[str], event_type: str) -> bool:
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)
