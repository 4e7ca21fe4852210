"""Referrals (seed 002 `invitation/`): a person's invite code, who referred whom (at sign-up, or
claimed soon after), the referred organization once the person creates or joins one as its
admin, and the reward when that organization completes its first order or service order.

Refused, with the reason: using one's own code; a referrer who is a member of the referred
organization; a loop (the referrer was referred, directly or up the chain, by the referred
person or by a member of the referred organization); a second referral of the same person or
organization; an organization that was already a customer (it had completed an order).

A person's referrals are the referrer's rows: attribution and qualification read and write them
inside the audited all-tenants scope.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import system_scope
from apps.core.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.orders.selectors import order_get, order_list
from apps.points import codes, events, selectors
from apps.points.models import Referral, ReferralCode, ReferralSource, ReferralStatus
from apps.points.services.ledger import points_award_for_event
from apps.points.transitions import REFERRAL
from apps.tenancy.roles import Role
from apps.tenancy.selectors import active_memberships_of, members_with_roles, organization_names

COMPLETED_ORDER = "completed"  # apps.orders' OrderStatus.COMPLETED, as order.status_changed carries it


class ReferralRefused(DomainError):
    status_code = 422
    code = ErrorCode.VALIDATION_CONSTRAINT_VIOLATION


# --- The person's code ----------------------------------------------------------------------------


@transaction.atomic
def referral_code_get_or_create(*, user_id: UUID) -> ReferralCode:
    """The person's invite code, made on first ask. In the person's own scope (the row is theirs).
    A new code that happens to be taken already is drawn again."""
    existing = ReferralCode.objects.filter(user_id=user_id).first()
    if existing is not None:
        return existing
    for _ in range(8):
        ReferralCode.objects.bulk_create([ReferralCode(user_id=user_id, code=codes.code_new())], ignore_conflicts=True)
        made = ReferralCode.objects.filter(user_id=user_id).first()
        if made is not None:
            return made
    raise RuntimeError("no free referral code after 8 draws")


def referral_link(code: str) -> str:
    return f"{settings.POINTS['PUBLIC_BASE_URL']}/signup?ref={code}"


def _code_holder(*, code: str, field: str) -> tuple[str, UUID]:
    """(the code as stored, the id of the active person holding it); 400 on `field` otherwise."""
    normalized = codes.code_normalized(code)
    holder = selectors.referral_code_owner(code=normalized) if codes.code_looks_valid(normalized) else None
    if holder is None:
        raise ValidationFailed("This referral code is unknown.", details={field: ["Unknown referral code."]})
    return normalized, holder


# --- Attribution ----------------------------------------------------------------------------------


def _shown_name(user) -> str:
    """What the referrer sees of the person: a first name and an initial, else a masked address."""
    if user.first_name:
        initial = f" {user.last_name[:1]}." if user.last_name else ""
        return f"{user.first_name}{initial}"[:200]
    local, _, domain = user.email.partition("@")
    return f"{local[:1]}***@{domain}"[:200]


def _referral_create(*, referrer_id: UUID, referred, code: str, source: str) -> Referral:
    referral = Referral.objects.create(
        referrer_id=referrer_id, referred_id=referred.id, code=code, source=source, referred_name=_shown_name(referred)
    )
    history_record(
        referral,
        transitions=REFERRAL,
        from_status="",
        to_status=ReferralStatus.PENDING,
        actor=Actor(user_id=referred.id),
        reason=source,
    )
    audit_record(
        action="referral.created",
        resource_type="referral",
        resource_id=referral.id,
        new_values={"referrer_id": str(referrer_id), "source": source},
        actor_id=referred.id,
    )
    return referral


def referral_sign_up_check(value: str) -> None:
    """Sign-up's check of `referral_code` (apps.core.sign_up): an unknown code is a 400 on it."""
    _code_holder(code=value, field="referral_code")


def referral_sign_up_record(*, user, value: str) -> None:
    """Sign-up's record of `referral_code`: the person was referred by the code's holder (PENDING
    until the organization they create or join as its admin completes its first order)."""
    code, referrer_id = _code_holder(code=value, field="referral_code")
    with system_scope(reason="sign-up records who referred the person", actor_id=user.id):
        _referral_create(referrer_id=referrer_id, referred=user, code=code, source=ReferralSource.SIGN_UP)


def _has_completed_an_order(organization_ids) -> bool:
    """Whether one of these organizations completed an order as its client (orders' selectors,
    read in the all-tenants scope the caller holds)."""
    return any(
        order_list(organization_id=organization_id)
        .filter(client_organization_id=organization_id, status=COMPLETED_ORDER)
        .exists()
        for organization_id in organization_ids
    )


def _refusal(*, referrer_id: UUID, chain: set[UUID], organization_id: UUID) -> str:
    """Why the referral cannot name this organization, or ""."""
    if (
        Referral.objects.filter(referred_organization_id=organization_id)
        .exclude(status=ReferralStatus.REFUSED)
        .exists()
    ):
        return "The organization was referred already."
    members = {user_id for user_id, _ in members_with_roles(organization_ids=[organization_id], roles=Role.values)}
    if referrer_id in members:
        return "The referrer is a member of the referred organization."
    if chain & members:
        return "A loop: the referrer was referred, directly or up the chain, by the referred organization."
    if _has_completed_an_order([organization_id]):
        return "The organization was a customer already (it had completed an order)."
    return ""


def _first_administered(user_id: UUID) -> UUID | None:
    """The first organization the person joined as its admin (their memberships, oldest first)."""
    for membership in active_memberships_of(user_id=user_id):
        if membership.role == Role.ORG_ADMIN:
            return membership.organization_id
    return None


def _attach(referral: Referral, organization_id: UUID) -> None:
    referral.referred_organization_id = organization_id
    referral.referred_organization_name = organization_names(organization_ids=[organization_id]).get(
        organization_id, ""
    )
    referral.save(update_fields=["referred_organization", "referred_organization_name", "updated_at"])


@transaction.atomic
def referral_claim(*, user, code: str) -> Referral:
    """A person who signed up without a code names who referred them: only within
    POINTS["REFERRAL_CLAIM_DAYS"] of sign-up, once, and before any of their organizations
    completed an order. Own code, a loop, a referrer who is a member of their organization: 422.
    """
    days = settings.POINTS["REFERRAL_CLAIM_DAYS"]
    if timezone.now() - user.created_at > timedelta(days=days):
        raise ReferralRefused(
            f"A referral can be claimed within {days} days of sign-up only.", details={"code": ["Too late."]}
        )
    code, referrer_id = _code_holder(code=code, field="code")
    if referrer_id == user.id:
        raise ReferralRefused("You cannot use your own referral code.", details={"code": ["Your own code."]})
    with system_scope(reason="a person claims who referred them", actor_id=user.id):
        if Referral.objects.filter(referred_id=user.id).exists():
            raise ReferralRefused("You were referred already.", details={"code": ["Already referred."]})
        if _has_completed_an_order([m.organization_id for m in active_memberships_of(user_id=user.id)]):
            raise ReferralRefused(
                "A referral can be claimed only before your organization's first completed order.",
                details={"code": ["An order was completed already."]},
            )
        chain = selectors.referrer_chain(user_id=referrer_id)
        if user.id in chain:
            raise ReferralRefused(
                "A loop: the person whose code this is was referred, directly or up the chain, by you.",
                details={"code": ["A referral loop."]},
            )
        organization_id = _first_administered(user.id)
        if organization_id is not None:
            reason = _refusal(referrer_id=referrer_id, chain=chain, organization_id=organization_id)
            if reason:
                raise ReferralRefused(reason, details={"code": [reason]})
        referral = _referral_create(referrer_id=referrer_id, referred=user, code=code, source=ReferralSource.CLAIM)
        if organization_id is not None:
            _attach(referral, organization_id)
    return referral


def _move(referral: Referral, to_status: str, *, reason: str, save: list[str], event=None) -> None:
    """A referral's move in the all-tenants scope: history, audit and the event, one transaction."""
    organization_id = referral.referred_organization_id
    previous = referral.status
    if event is None:
        event = lambda: events.ReferralStatusChanged(  # noqa: E731 - built once the status is set
            organization_id=organization_id,
            **_referral_fields(referral),
            from_status=previous,
            to_status=to_status,
            reason=reason,
        )
    move(
        referral,
        to_status,
        transitions=REFERRAL,
        actor=Actor.system(organization_id=organization_id),
        reason=reason,
        save=[*save, "updated_at"],
        audit={"action": "referral.status_changed", "resource_type": "referral", "organization_id": organization_id},
        event=event,
    )


def _referral_fields(referral: Referral) -> dict:
    return {
        "referral_id": str(referral.id),
        "referrer_user_id": str(referral.referrer_id),
        "referred_user_id": str(referral.referred_id),
        "referred_organization_id": str(referral.referred_organization_id)
        if referral.referred_organization_id
        else None,
    }


def referral_organization_attach(*, user_ids, organization_id: UUID) -> list[Referral]:
    """The people (just made admins of `organization_id`, which they created or joined) who were
    referred and have no organization yet: it becomes their referred organization, or their
    referral is REFUSED with the reason. Runs in the audited all-tenants scope the caller opened."""
    attached = []
    pending = Referral.objects.select_for_update().filter(
        referred_id__in=list(user_ids), referred_organization__isnull=True, status=ReferralStatus.PENDING
    )
    for referral in pending.order_by("created_at", "id"):
        chain = selectors.referrer_chain(user_id=referral.referrer_id)
        reason = _refusal(referrer_id=referral.referrer_id, chain=chain, organization_id=organization_id)
        if reason:
            referral.refusal_reason = reason
            _move(referral, ReferralStatus.REFUSED, reason=reason, save=["refusal_reason"])
        else:
            _attach(referral, organization_id)
        attached.append(referral)
    return attached


# --- Qualification and reward ---------------------------------------------------------------------


def referral_qualify(*, organization_id: UUID, event) -> Referral | None:
    """The organization's first completed order or service order (`event`) qualifies its PENDING
    referral: QUALIFIED, and referral.qualified goes out (the reward rule earns points for it).
    Once: a later order finds no PENDING referral. In the audited all-tenants scope."""
    referral = (
        Referral.objects.select_for_update()
        .filter(referred_organization_id=organization_id, status=ReferralStatus.PENDING)
        .first()
    )
    if referral is None:
        return None
    referral.qualified_at, referral.qualifying_event_id = timezone.now(), event.id
    _move(
        referral,
        ReferralStatus.QUALIFIED,
        reason=f"{event.event_type} {event.aggregate_id}",
        save=["qualified_at", "qualifying_event_id"],
        event=lambda: events.ReferralQualified(
            organization_id=organization_id,
            **_referral_fields(referral),
            qualifying_event_type=event.event_type,
            qualifying_event_id=str(event.id),
        ),
    )
    return referral


def referral_qualify_for_order(*, event) -> Referral | None:
    """order.status_changed to completed: the order's client organization, if it holds a PENDING
    referral, is qualified. Discovers first (read-only, unaudited) whether a party holds one, so
    that most completed orders cost one query; the write runs in the audited scope."""
    payload = event.payload or {}
    if payload.get("to_status") != COMPLETED_ORDER:
        return None
    parties = [UUID(party) for party in payload.get("party_organization_ids") or []]
    with system_scope(reason="points: does a completed order qualify a referral", audit=False):
        candidates = selectors.pending_referral_organizations(organization_ids=parties)
    if not candidates:
        return None
    with system_scope(reason=f"points: a completed order qualifies a referral ({event.id})"):
        for organization_id in sorted(candidates, key=str):
            try:
                order = order_get(organization_id=organization_id, order_id=UUID(payload["order_id"]))
            except NotFound:
                continue
            if order.client_organization_id == organization_id:
                return referral_qualify(organization_id=organization_id, event=event)
    return None


def referral_qualify_for_service_order(*, event) -> Referral | None:
    """service_order.completed: the customer organization (named in the payload; the event is
    the acting expert organization's) is qualified if it holds a PENDING referral (discovered
    read-only first, like orders)."""
    customer = (event.payload or {}).get("customer_organization_id")
    organization_id = UUID(customer) if customer else event.organization_id
    with system_scope(reason="points: does a completed service order qualify a referral", audit=False):
        if not selectors.pending_referral_organizations(organization_ids=[organization_id]):
            return None
    with system_scope(reason=f"points: a completed service order qualifies a referral ({event.id})"):
        return referral_qualify(organization_id=organization_id, event=event)


def referral_reward(*, event) -> Referral | None:
    """referral.qualified delivered: the reward rules record the referrer's points (only with the
    `points` feature on for the referred organization) and the referral becomes REWARDED, in one
    transaction. A redelivery finds it REWARDED and records nothing."""
    referral_id = (event.payload or {}).get("referral_id")
    with system_scope(reason=f"points: referral reward ({event.id})"):
        referral = Referral.objects.select_for_update().filter(id=referral_id).first()
        if referral is None or referral.status != ReferralStatus.QUALIFIED:
            return referral
        recorded = points_award_for_event(event=event)
        if not any(line.transaction.user_id == referral.referrer_id for line in recorded):
            return referral  # the feature is off, or no rule: it stays QUALIFIED
        referral.rewarded_at = timezone.now()
        _move(referral, ReferralStatus.REWARDED, reason="referrer rewarded", save=["rewarded_at"])
    return referral


# --- A person's data ------------------------------------------------------------------------------


def referral_code_forget(*, user_id: UUID, **_) -> None:
    """At a person's erasure: their invite code stops working (the referrals stay, pointing at
    the anonymous user row). In the erasure's audited all-tenants scope."""
    ReferralCode.objects.filter(user_id=user_id).delete()
