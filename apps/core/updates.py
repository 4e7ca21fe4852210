"""Change a model's fields, audit the change and publish it: one helper for every context.

The shape of HackSoft's `common/services.py:model_update`, plus what every Manifest write
owes: one audit row with the old and new values, and the domain event in the outbox. It runs
in the caller's transaction (the caller's service is `@transaction.atomic` and holds the row's
lock), so the row, its audit and its event commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import models, transaction

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.events import DomainEvent
from apps.core.services import outbox_publish

ModelT = TypeVar("ModelT", bound=models.Model)


def model_changes(*, instance: models.Model, data: dict, fields: Iterable[str]) -> dict:
    """The values of `data` for the allowed `fields` that differ from the instance's own, in
    `fields` order; keys outside `fields` are ignored.

    For a service that checks the merged values before writing (or refuses some changes):
    it calls this first, then `model_update` with the same data."""
    return {field: data[field] for field in fields if field in data and data[field] != getattr(instance, field)}


def model_update(
    *,
    instance: ModelT,
    data: dict,
    fields: Iterable[str],
    actor: Actor,
    resource_type: str,
    audit_action: str | None = None,
    organization_id=None,
    event: Callable[[ModelT, list[str]], DomainEvent] | None = None,
    full_clean: bool = False,
    clean_exclude: Iterable[str] = (),
) -> tuple[ModelT, list[str]]:
    """Set the allowed fields of `data` that changed, save only those, audit and publish;
    returns the instance and the names of the changed fields (in `fields` order).

    Nothing changed: nothing is saved, audited or published, and the list is empty.
    - `full_clean`: validate the whole model after setting the fields (unique constraints
      included, so not only the changed fields), excluding `clean_exclude`.
    - The audit row is `audit_action` (default `<resource_type>.updated`) with the old and new
      values of the changed fields, by `actor.user_id`, in `organization_id` (default: the
      instance's `organization_id`, else the actor's).
    - `event(instance, changed)` builds the domain event from the saved instance, so that a
      payload depending on the new values (an RFQ's audience, say) reads them.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("model_update runs in the caller's transaction: call it from an atomic service.")
    changes = model_changes(instance=instance, data=data, fields=fields)
    if not changes:
        return instance, []
    old_values = {field: getattr(instance, field) for field in changes}
    for field, value in changes.items():
        setattr(instance, field, value)
    if full_clean:
        instance.full_clean(exclude=list(clean_exclude))
    update_fields = list(changes)
    if any(field.name == "updated_at" for field in instance._meta.concrete_fields) and "updated_at" not in changes:
        update_fields.append("updated_at")
    instance.save(update_fields=update_fields)
    if organization_id is None:
        organization_id = getattr(instance, "organization_id", None) or actor.organization_id
    audit_record(
        action=audit_action or f"{resource_type}.updated",
        resource_type=resource_type,
        resource_id=instance.pk,
        old_values=old_values,
        new_values=changes,
        organization_id=organization_id,
        actor_id=actor.user_id,
    )
    changed = list(changes)
    if event is not None:
        outbox_publish(event(instance, changed))
    return instance, changed
