"""Reads of points and referrals: the rules (cached per event type for the awarding subscriber),
a person's balance and ledger, their referrals, who holds a code, and the referral chain above a
person (loops). Row-level security limits every query to the current scope: a person's own rows,
or every person's inside the all-tenants scope of awarding and attribution."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, QuerySet, Sum

from apps.points.models import ACTOR, PointAccount, PointRule, PointTransaction, Referral, ReferralStatus

logger = logging.getLogger(__name__)


def _rules_cache_key() -> str:
    # Named after the database: one Redis serves several databases in development (the
    # benchmarks' are made afresh each run), and a rule's id means nothing in another.
    return f"points:rules:v1:{settings.DATABASES['default']['NAME']}"


# --- Rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    """An active rule as the awarding subscriber reads it (cached, so no row is fetched per event)."""

    id: UUID
    key: str
    event_type: str
    recipient: str
    conditions: dict
    transaction_type: str
    category: str
    amount: int
    allows_negative: bool
    description: str

    def matches(self, payload: dict) -> bool:
        """Whether every condition's payload field holds one of its values."""
        for field, allowed in self.conditions.items():
            values = allowed if isinstance(allowed, list) else [allowed]
            if payload.get(field) not in values:
                return False
        return True

    def recipient_of(self, event) -> UUID | None:
        """The person the rule awards for `event`: the payload field it names, or the event's actor."""
        raw = event.actor_id if self.recipient == ACTOR else (event.payload or {}).get(self.recipient)
        if not raw:
            return None
        try:
            return raw if isinstance(raw, UUID) else UUID(str(raw))
        except ValueError:
            logger.warning("points.recipient_invalid", extra={"rule": self.key, "event_id": str(event.id)})
            return None


_RULE_FIELDS = [
    "id",
    "key",
    "event_type",
    "recipient",
    "conditions",
    "transaction_type",
    "category",
    "amount",
    "allows_negative",
    "description",
]


def _rules_by_event_type() -> dict[str, list[RuleSpec]]:
    cached = cache.get(_rules_cache_key())
    if cached is None:
        cached = {}
        for row in PointRule.objects.filter(is_active=True).order_by("key").values(*_RULE_FIELDS):
            cached.setdefault(row["event_type"], []).append(row)
        cache.set(_rules_cache_key(), cached, settings.POINTS["RULES_CACHE_SECONDS"])
    return {event_type: [RuleSpec(**row) for row in rows] for event_type, rows in cached.items()}


def rules_for_event(*, event_type: str) -> list[RuleSpec]:
    """The active rules of `event_type` (cached; the rule services forget the cache on a change)."""
    return _rules_by_event_type().get(event_type, [])


def rules_forget() -> None:
    cache.delete(_rules_cache_key())


def rule_list() -> QuerySet[PointRule]:
    """The active rules, what earns what (GET /points/rules)."""
    return PointRule.objects.filter(is_active=True).order_by("event_type", "key", "id")


# --- A person's points ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    balance: int
    updated_at: object  # None until the first line


def point_balance(*, user_id: UUID) -> Balance:
    account = PointAccount.objects.filter(user_id=user_id).values("balance", "updated_at").first()
    return Balance(**account) if account else Balance(balance=0, updated_at=None)


def point_transactions(*, user_id: UUID) -> QuerySet[PointTransaction]:
    """The person's ledger, newest first (its own order: `sequence`)."""
    return PointTransaction.objects.filter(user_id=user_id).select_related("rule").order_by("-sequence")


def ledger_problems(*, user_ids=None) -> list[dict]:
    """People whose ledger does not add up: the account's balance is not the sum of the lines, its
    count is not their number, or a line's running balance is not the previous one plus its
    amount (numbered 1..n with no gap). Read in the current scope (the all-tenants one for
    everybody's). Empty when every ledger is exact."""
    accounts = PointAccount.objects.all()
    lines = PointTransaction.objects.all()
    if user_ids is not None:
        accounts, lines = accounts.filter(user_id__in=user_ids), lines.filter(user_id__in=user_ids)
    sums = {
        row["user_id"]: (row["total"], row["count"])
        for row in lines.values("user_id").annotate(total=Sum("amount"), count=Count("id")).order_by("user_id")
    }
    problems = []
    for account in accounts.order_by("user_id"):
        if sums.pop(account.user_id, (0, 0)) != (account.balance, account.transaction_count):
            problems.append({"user_id": account.user_id, "problem": "balance", "balance": account.balance})
    problems += [{"user_id": user_id, "problem": "no account"} for user_id in sums]
    table = PointTransaction._meta.db_table
    where, params = ("WHERE user_id = ANY(%s)", [list(user_ids)]) if user_ids is not None else ("", [])
    with connection.cursor() as cursor:
        # Each line against the one before it: sequence n follows n - 1, balance = previous + amount.
        cursor.execute(
            f"""SELECT user_id, sequence FROM (
                    SELECT user_id, sequence, amount, balance,
                           lag(sequence) OVER w AS previous_sequence, lag(balance) OVER w AS previous_balance
                      FROM {table} {where} WINDOW w AS (PARTITION BY user_id ORDER BY sequence)
                ) lines
                WHERE sequence <> coalesce(previous_sequence, 0) + 1
                   OR balance <> coalesce(previous_balance, 0) + amount""",
            params,
        )
        problems += [{"user_id": user_id, "problem": "chain", "sequence": sequence} for user_id, sequence in cursor]
    return problems


# --- Referrals ------------------------------------------------------------------------------------


def referral_code_owner(*, code: str) -> UUID | None:
    """The active person who holds this exact code, whoever asks (no scope needed or opened): the
    SECURITY DEFINER function of migration 0001, one indexed lookup."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT points_referral_code_owner(%s)", [code])
        row = cursor.fetchone()
    return row[0] if row else None


def referral_list(*, referrer_id: UUID) -> QuerySet[Referral]:
    """The people the person referred, newest first."""
    return Referral.objects.filter(referrer_id=referrer_id).order_by("-created_at", "-id")


def referrer_chain(*, user_id: UUID) -> set[UUID]:
    """Everyone above the person in the referral chain: who referred them, who referred that
    person, and so on (refused referrals do not count). A person is referred once, so the chain
    is a path; UNION stops it at a loop. Every person's rows: call it in the all-tenants scope."""
    table = Referral._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH RECURSIVE chain(user_id, depth) AS (
                    SELECT referrer_id, 1 FROM {table} WHERE referred_id = %s AND status <> %s
                    UNION
                    SELECT r.referrer_id, c.depth + 1 FROM {table} r JOIN chain c ON r.referred_id = c.user_id
                     WHERE r.status <> %s AND c.depth < %s
                ) SELECT DISTINCT user_id FROM chain""",
            [user_id, ReferralStatus.REFUSED, ReferralStatus.REFUSED, settings.POINTS["REFERRAL_CHAIN_DEPTH"]],
        )
        return {row[0] for row in cursor.fetchall()}


def pending_referral_organizations(*, organization_ids) -> set[UUID]:
    """Which of these organizations hold a PENDING referral (a completed order may qualify it).
    Every person's referrals: call it in the all-tenants scope."""
    if not organization_ids:
        return set()
    return set(
        Referral.objects.filter(
            referred_organization_id__in=list(organization_ids), status=ReferralStatus.PENDING
        ).values_list("referred_organization_id", flat=True)
    )


def referred_without_organization(*, user_ids) -> set[UUID]:
    """Which of these people hold a PENDING referral that names no organization yet. Every
    person's referrals: call it in the all-tenants scope."""
    if not user_ids:
        return set()
    return set(
        Referral.objects.filter(
            referred_id__in=list(user_ids), referred_organization__isnull=True, status=ReferralStatus.PENDING
        ).values_list("referred_id", flat=True)
    )
