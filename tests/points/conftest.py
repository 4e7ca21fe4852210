"""Points set-up: an organization with the `points` feature on and its members; events published
through the outbox and delivered by the relay, as production delivers them; the ledger as the
person reads it."""

from __future__ import annotations

import importlib

import pytest

from apps.core.context import system_scope, tenant_scope, user_scope
from apps.core.events import handlers_for
from apps.core.models import OutboxEvent
from apps.core.services import outbox_publish, outbox_relay
from apps.points import selectors
from apps.points.models import PointRule, PointTransaction, Referral
from apps.tenancy.models import Membership
from apps.tenancy.roles import Actor, Role
from tests.factories import FeatureFactory, OrganizationFactory, member


def with_points(organization):
    FeatureFactory(organization=organization, name="points", is_entitled=True, is_enabled=True)
    return organization


def actor_of(user, organization) -> Actor:
    with tenant_scope(organization.id, user_id=user.id):
        membership = Membership.objects.get(user=user, organization=organization)
    return Actor.of(membership, user_id=user.id)


def publish(event, *, actor=None) -> OutboxEvent:
    """Write the event to the outbox as its service would (acting for its organization)."""
    with tenant_scope(event.organization_id, user_id=actor.id if actor else None):
        return outbox_publish(event)


def relay(organization_id) -> int:
    """What the relay does after commit: deliver the organization's pending events (its own
    events and those they cause, until none is left)."""
    delivered = total = outbox_relay(organization_id=organization_id)
    while delivered:
        delivered = outbox_relay(organization_id=organization_id) + outbox_relay(organization_id=None)
        total += delivered
    return total


def relay_everything() -> None:
    """Deliver every pending event, whoever owns it, until none is left (events cause events)."""
    for _ in range(10):
        with system_scope(reason="test: pending events", audit=False):
            owners = set(
                OutboxEvent.objects.filter(published_at__isnull=True).values_list("organization_id", flat=True)
            )
        if not owners:
            return
        for organization_id in owners:
            outbox_relay(organization_id=organization_id)
    raise AssertionError("events keep coming")


def redeliver(row: OutboxEvent) -> None:
    """The same event delivered again (at least once: a worker died before stamping it)."""
    scope = tenant_scope(row.organization_id) if row.organization_id else system_scope(reason="test", audit=False)
    with scope:
        for _, handler in handlers_for(row.event_type):
            handler(row)


def balance_of(user) -> int:
    with user_scope(user.id):
        return selectors.point_balance(user_id=user.id).balance


def ledger_of(user) -> list[PointTransaction]:
    with user_scope(user.id):
        return list(selectors.point_transactions(user_id=user.id).order_by("sequence"))


def referral_of(referred) -> Referral | None:
    with system_scope(reason="test reads the referral", audit=False):
        return Referral.objects.filter(referred=referred).first()


# The rules migration points/0002 seeds; a `committed` test's clean-up empties every table, so each
# test puts them back (as they were migrated) before it starts.
DEFAULT_RULES = importlib.import_module("apps.points.migrations.0002_default_rules").DEFAULT_RULES


@pytest.fixture(autouse=True)
def _default_rules(request):
    if "committed" in request.fixturenames:
        request.getfixturevalue("committed")
    elif request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
    else:
        return
    for rule in DEFAULT_RULES:
        PointRule.objects.get_or_create(key=rule["key"], defaults={"transaction_type": "REWARD", **rule})
    selectors.rules_forget()


@pytest.fixture
def organization():
    return with_points(OrganizationFactory(name="Rhein Service GmbH"))


@pytest.fixture
def admin(organization):
    return member(organization, Role.ORG_ADMIN)


@pytest.fixture
def expert(organization):
    return member(organization, Role.EXPERT)
