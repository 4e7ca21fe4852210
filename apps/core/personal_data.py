"""A person's data across contexts (docs/accounts.md, "Personal data"): each context registers,
in its AppConfig.ready, what it holds about a person and what it does when they are erased.
Accounts' export and erasure (apps.accounts.services.personal_data) walk this registry, so
accounts imports no other context.

Every callable runs inside the audited all-tenants scope the caller opened.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from apps.core.actors import Actor
from apps.core.errors import DomainError

# name -> collect(*, user_id, email) -> JSON-ready rows; the export's sections, in registration order.
_sections: dict[str, Callable[..., list[dict]]] = {}
# check(*, user_id) -> the error that refuses the erasure, or None.
_erasure_checks: list[Callable[..., DomainError | None]] = []
# step(*, user_id, email, replacement, actor): what a context forgets at the erasure.
_erasure_steps: list[Callable[..., object]] = []


def personal_data_section(name: str, collect: Callable[..., list[dict]]) -> None:
    """Register one section of the personal data export (the key `name` in the file)."""
    _sections[name] = collect


def erasure_check_register(check: Callable[..., DomainError | None]) -> None:
    """Register a check that can refuse an erasure request (e.g. the last admin of an organization)."""
    if check not in _erasure_checks:
        _erasure_checks.append(check)


def erasure_step_register(step: Callable[..., object]) -> None:
    """Register what a context does when a person is erased, before the audit log is scrubbed."""
    if step not in _erasure_steps:
        _erasure_steps.append(step)


def personal_data_sections(*, user_id: UUID, email: str) -> dict[str, list[dict]]:
    return {name: collect(user_id=user_id, email=email) for name, collect in _sections.items()}


def erasure_refusal(*, user_id: UUID) -> DomainError | None:
    """The first registered check's refusal, or None when the person may be erased."""
    for check in _erasure_checks:
        error = check(user_id=user_id)
        if error is not None:
            return error
    return None


def erasure_steps_run(*, user_id: UUID, email: str, replacement: str, actor: Actor) -> None:
    for step in _erasure_steps:
        step(user_id=user_id, email=email, replacement=replacement, actor=actor)
