"""What points and referrals do when events arrive (through the outbox relay, in the scope of the
organization that published them). Receivers only delegate to services; each first finds out,
cheaply, whether there is anything to do, so that the many events that earn nothing cost a
cached read and no audited all-tenants scope."""

from __future__ import annotations

from apps.core.context import system_scope
from apps.points import events, selectors, services
from apps.points.services.ledger import FEATURE
from apps.tenancy.roles import Role
from apps.tenancy.selectors import feature_is_active, members_with_roles

# Events whose points are recorded by their own receiver (the referral's, with its status).
OWN_RECEIVERS = frozenset({events.ReferralQualified.event_type})


def event_award(event) -> None:
    """Every event: the active rules of its type award points (organization with `points` on)."""
    if event.event_type in OWN_RECEIVERS or not selectors.rules_for_event(event_type=event.event_type):
        return
    if not feature_is_active(organization_id=event.organization_id, name=FEATURE):
        return
    with system_scope(reason=f"points: award for {event.event_type} {event.id}"):
        services.points_award_for_event(event=event)


def _attach(user_ids, organization_id) -> None:
    with system_scope(reason="points: is a new admin a referred person", audit=False):
        referred = selectors.referred_without_organization(user_ids=user_ids)
    if referred:
        with system_scope(reason=f"points: a referred person's organization ({organization_id})"):
            services.referral_organization_attach(user_ids=referred, organization_id=organization_id)


def organization_created(event) -> None:
    """A new organization: its admins (its creator) who were referred get it as their referred
    organization."""
    admins = members_with_roles(organization_ids=[event.organization_id], roles=[Role.ORG_ADMIN])
    _attach({user_id for user_id, _ in admins}, event.organization_id)


def member_joined(event) -> None:
    """Someone joined an organization as its admin: if they were referred and have none yet, it
    becomes their referred organization."""
    if event.payload.get("role") == Role.ORG_ADMIN:
        _attach({event.payload["user_id"]}, event.organization_id)


def order_status_changed(event) -> None:
    """A completed order may be the referred organization's first: the referral qualifies."""
    services.referral_qualify_for_order(event=event)


def service_order_completed(event) -> None:
    """A completed service order (the customer's) may be the referred organization's first."""
    services.referral_qualify_for_service_order(event=event)


def referral_qualified(event) -> None:
    """The reward rules pay the referrer, and the referral becomes REWARDED."""
    services.referral_reward(event=event)
