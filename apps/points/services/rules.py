"""The rules that earn points: platform staff create and edit them in the back-office. A rule is
switched off rather than deleted once a ledger line refers to it (the ledger keeps its rule)."""

from __future__ import annotations

import re
from uuid import UUID

from django.db import transaction

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.points import selectors
from apps.points.models import PointRule

RULE_FIELDS = (
    "key",
    "event_type",
    "recipient",
    "conditions",
    "transaction_type",
    "category",
    "amount",
    "allows_negative",
    "description",
    "is_active",
)
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check(rule: PointRule) -> None:
    errors = {}
    if not EVENT_TYPE.match(rule.event_type or ""):
        errors["event_type"] = ["A domain event type, e.g. service_order.completed."]
    if not FIELD_NAME.match(rule.recipient or ""):
        errors["recipient"] = ['A payload field holding a person\'s id (e.g. expert_user_id), or "actor".']
    conditions = rule.conditions
    if not isinstance(conditions, dict) or not all(
        isinstance(field, str) and FIELD_NAME.match(field) and isinstance(values, list) and values
        for field, values in conditions.items()
    ):
        errors["conditions"] = ['An object of payload fields and lists of values, e.g. {"to_level": ["GOLD"]}.']
    if errors:
        raise ValidationFailed("The rule is invalid.", details=errors)
    try:
        rule.full_clean(validate_unique=False)
    except Exception as error:  # django.core.exceptions.ValidationError
        raise ValidationFailed("The rule is invalid.", details=getattr(error, "message_dict", {})) from error


def _staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff edit the points rules.")


def _saved(rule: PointRule, *, actor: Actor, action: str, old: dict | None) -> PointRule:
    if PointRule.objects.filter(key=rule.key).exclude(id=rule.id).exists():
        raise ValidationFailed("A rule has this key.", details={"key": ["Taken."]})
    rule.save()
    new = {field: getattr(rule, field) for field in RULE_FIELDS}
    audit_record(
        action=action, resource_type="point_rule", resource_id=rule.id, old_values=old, new_values=new, actor=actor
    )
    transaction.on_commit(selectors.rules_forget)
    selectors.rules_forget()
    return rule


@transaction.atomic
def point_rule_create(*, actor: Actor, data: dict) -> PointRule:
    """A new rule (staff); audited; the awarding subscriber reads it from the next event on."""
    _staff(actor)
    rule = PointRule(**{field: value for field, value in data.items() if field in RULE_FIELDS})
    _check(rule)
    return _saved(rule, actor=actor, action="point_rule.created", old=None)


@transaction.atomic
def point_rule_update(*, actor: Actor, rule_id: UUID, data: dict) -> PointRule:
    """Change a rule (staff); audited. Lines already recorded keep what they were."""
    _staff(actor)
    rule = PointRule.objects.select_for_update().filter(id=rule_id).first()
    if rule is None:
        raise NotFound("Rule not found.")
    old = {field: getattr(rule, field) for field in RULE_FIELDS}
    for field, value in data.items():
        if field in RULE_FIELDS:
            setattr(rule, field, value)
    _check(rule)
    return _saved(rule, actor=actor, action="point_rule.updated", old=old)
