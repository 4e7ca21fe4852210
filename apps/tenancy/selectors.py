"""Reads of the tenancy context. Row-level security already limits every query to the
current scope; these selectors shape the querysets and raise NOT_FOUND for the rest."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import F, Func, QuerySet, Value
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from apps.accounts.selectors import live_session_q
from apps.core.compiled import CompiledRows, instance
from apps.core.errors import NotFound
from apps.core.models import AuditLog
from apps.tenancy.features import FEATURES, Feature, feature_preconditions
from apps.tenancy.models import Invitation, Membership, Organization, OrganizationFeature

FEATURE_CACHE_SECONDS = 300
# What the request's caller resolution, the permission checks and /me read of the caller's
# memberships (apps.tenancy.middleware, permissions, MyMembershipSerializer).
CALLER_MEMBERSHIP_FIELDS = (
    "id",
    "organization_id",
    "user_id",
    "role",
    "extra_permissions",
    "is_active",
    "joined_at",
    "created_at",
    "organization__id",
    "organization__name",
    "organization__slug",
    "organization__is_active",
)
# What MembershipSerializer reads: keep the two in step (an unlisted field still works,
# at one extra query per row; the member list's query-count test would catch it).
MEMBER_FIELDS = (
    "id",
    "organization_id",
    "role",
    "extra_permissions",
    "is_active",
    "invited_by_id",
    "joined_at",
    "created_at",
    "user__id",
    "user__email",
    "user__first_name",
    "user__last_name",
)


def active_memberships_of(*, user_id: UUID) -> list[Membership]:
    """The user's active memberships with their organizations' id, name and slug (one query,
    its SQL compiled once per process like the bearer token's: `caller_with_memberships`).

    Runs on every authenticated request: what the caller may do needs the membership,
    what /me shows needs the organization's summary; its other columns (the JSON
    settings among them) would be fetched and discarded each time. Reading one of
    them still works, at one more query.
    """
    membership_columns, organization_columns, _ = _caller_columns()
    first = len(membership_columns)
    memberships = []
    for row in _MEMBERSHIP_ROWS.rows(user_id=user_id):
        membership = instance(Membership, membership_columns, row[:first])
        membership.organization = instance(Organization, organization_columns, row[first:])
        memberships.append(membership)
    return memberships


@functools.cache
def _caller_columns() -> tuple[list[str], list[str], list[str]]:
    """The columns of the caller's query, by model, each in its model's field order (the order
    `Model.from_db` takes them in): the membership's and organization's the caller resolution
    reads (CALLER_MEMBERSHIP_FIELDS), every column of the user (it becomes request.user)."""
    wanted = set(CALLER_MEMBERSHIP_FIELDS)

    def attnames(model, prefix: str, keep) -> list[str]:
        return [field.attname for field in model._meta.concrete_fields if keep(prefix + field.name)]

    membership = attnames(Membership, "", lambda name: name in wanted or f"{name}_id" in wanted)
    organization = attnames(Organization, "organization__", lambda name: name in wanted)
    user = attnames(get_user_model(), "user__", lambda name: True)
    return membership, organization, user


def _caller_rows_queryset(*, user_id: UUID, session_id: UUID, now: datetime):
    membership, organization, user = _caller_columns()
    return (
        Membership.objects.filter(
            live_session_q(session_id=session_id, user_path="user__", now=now),
            user_id=user_id,
            user__is_active=True,
            is_active=True,
            organization__is_active=True,
        )
        .order_by("created_at")
        .values_list(*membership, *(f"organization__{f}" for f in organization), *(f"user__{f}" for f in user))
    )


# Compiled once per process (apps/core/compiled.py): it runs on every request with a token.
_CALLER_ROWS = CompiledRows(
    _caller_rows_queryset,
    placeholders={
        "user_id": UUID(int=0x5E1F),
        "session_id": UUID(int=0x5E55),
        "now": datetime(1970, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    },
)


def _membership_rows_queryset(*, user_id: UUID):
    membership, organization, _ = _caller_columns()
    return (
        Membership.objects.filter(user_id=user_id, is_active=True, organization__is_active=True)
        .order_by("created_at")
        .values_list(*membership, *(f"organization__{f}" for f in organization))
    )


_MEMBERSHIP_ROWS = CompiledRows(_membership_rows_queryset, placeholders={"user_id": UUID(int=0x5E1F)})


class SessionSignedOut(Exception):
    """The token's session was revoked or has expired (the user exists and is active)."""


def caller_with_memberships(*, user_id: UUID, session_id: UUID):
    """(the active user, their active memberships) for a bearer token's user and session, in
    one query; SessionSignedOut when the session is no longer live.

    Run in the user's scope on every request with a bearer token: the memberships with
    their organization and user joined, so the token's user costs no query of its own, and
    the session's revocation is checked in the same query (accounts' `live_session_q`), so
    it costs no round trip either; its SQL is compiled once per process. A user without an
    active membership gets no row; then the user is read with the session (one more query).
    (None, []) when the user does not exist or is deactivated. Nothing is cached across
    requests: a deactivated user, a removed membership or a signed-out session is refused
    on the next request.
    """
    rows = _CALLER_ROWS.rows(user_id=user_id, session_id=session_id, now=timezone.now())
    user_model = get_user_model()
    if not rows:
        live = live_session_q(session_id=session_id, user_path="")
        user = user_model.objects.filter(live, id=user_id, is_active=True).first()
        if user is None and user_model.objects.filter(id=user_id, is_active=True).exists():
            raise SessionSignedOut  # which 401 it is: only a refused token pays this query
        return user, []
    membership_columns, organization_columns, user_columns = _caller_columns()
    first, second = len(membership_columns), len(membership_columns) + len(organization_columns)
    user = instance(user_model, user_columns, rows[0][second:])
    memberships = []
    for row in rows:
        membership = instance(Membership, membership_columns, row[:first])
        membership.organization = instance(Organization, organization_columns, row[first:second])
        membership.user = user  # one instance, as request.user
        memberships.append(membership)
    return user, memberships


def organization_list(*, user_id: UUID) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user_id=user_id, memberships__is_active=True).order_by("name", "id")


def organization_get(*, organization_id: UUID) -> Organization:
    organization = Organization.objects.filter(id=organization_id).first()
    if organization is None:
        raise NotFound("Organization not found.")
    return organization


def member_list(*, organization_id: UUID) -> QuerySet[Membership]:
    """Members with the user fields MembershipSerializer shows, and nothing more.

    A page is 20 rows on every call of the list: the users' password hashes, the
    timestamps nobody shows and a join for `invited_by` (only its id is shown) cost
    more to fetch and turn into objects than the rest of the request. Services that
    write a membership re-read their own row with a lock.
    """
    return (
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user")
        .only(*MEMBER_FIELDS)
        .order_by("created_at", "id")
    )


def member_get(*, organization_id: UUID, member_id: UUID) -> Membership:
    membership = member_list(organization_id=organization_id).filter(id=member_id).first()
    if membership is None:
        raise NotFound("Member not found.")
    return membership


def invitation_list(*, organization_id: UUID) -> QuerySet[Invitation]:
    """The organization's invitations, newest first (what InvitationSerializer shows)."""
    return (
        Invitation.objects.filter(organization_id=organization_id)
        .only("id", "organization_id", "email", "role", "status", "expires_at", "invited_by_id", "created_at")
        .order_by("-created_at", "id")
    )


def invitation_get(*, organization_id: UUID, invitation_id: UUID) -> Invitation:
    invitation = invitation_list(organization_id=organization_id).filter(id=invitation_id).first()
    if invitation is None:
        raise NotFound("Invitation not found.")
    return invitation


def invitations_of_user(*, user_id: UUID) -> QuerySet[Invitation]:
    """The user's pending, unexpired invitations, oldest first (their own rows: row-level
    security shows an invitee nothing else of the inviting organization)."""
    return (
        Invitation.objects.filter(invitee_id=user_id, status=Invitation.Status.PENDING, expires_at__gt=timezone.now())
        .only("id", "organization_id", "role", "expires_at", "created_at")
        .order_by("created_at", "id")
    )


def active_admin_count(*, organization_id: UUID) -> int:
    return Membership.objects.filter(organization_id=organization_id, role="org_admin", is_active=True).count()


@dataclass(frozen=True)
class FeatureState:
    feature: Feature
    is_entitled: bool
    is_enabled: bool
    config: dict

    @property
    def name(self) -> str:
        return self.feature.name

    @property
    def is_active(self) -> bool:
        """On for the organization: entitled by staff and switched on."""
        return self.is_entitled and self.is_enabled


def feature_cache_key(organization_id: UUID) -> str:
    return f"features:{organization_id}"


def feature_states(*, organization_id: UUID) -> dict[str, FeatureState]:
    """Every catalogued feature for the organization: its row if any, else the catalogue default.

    Cached per organization; services delete the entry when a flag changes.
    """
    key = feature_cache_key(organization_id)
    rows = cache.get(key)
    if rows is None:
        rows = {
            row.name: (row.is_entitled, row.is_enabled, row.config)
            for row in OrganizationFeature.objects.filter(organization_id=organization_id)
        }
        rows |= _gated_defaults(organization_id, rows)
        cache.set(key, rows, FEATURE_CACHE_SECONDS)
    states = {}
    for name, feature in FEATURES.items():
        entitled, enabled, config = rows.get(name, (feature.default_entitled, feature.default_enabled, {}))
        states[name] = FeatureState(feature, entitled, enabled, config)
    return states


def _gated_defaults(organization_id: UUID, rows: dict) -> dict:
    """The defaults of the organization's features that have a precondition (the KYC gate of
    escrow, registered by apps.kyc.apps) and have no row yet: on by default only once the organization may switch
    them on. An unverified organization is not shown a flag it cannot use (nor one it could
    switch off and never back on); verified, it gets the catalogue's default. KYC decisions
    forget the cached states (`feature_cache_forget`)."""
    gated = [
        feature
        for feature in FEATURES.values()
        if feature_preconditions(feature.name) and feature.default_enabled and feature.name not in rows
    ]
    return {
        feature.name: (
            feature.default_entitled,
            all(
                precondition.allows(organization_id=organization_id)
                for precondition in feature_preconditions(feature.name)
            ),
            {},
        )
        for feature in gated
    }


def feature_is_active(*, organization_id: UUID | None, name: str) -> bool:
    if organization_id is None:
        return False
    return feature_states(organization_id=organization_id)[name].is_active


def audit_list(*, organization_id: UUID | None = None) -> QuerySet[AuditLog]:
    queryset = AuditLog.objects.all()
    if organization_id:
        queryset = queryset.filter(organization_id=organization_id)
    return queryset


def organization_admin_emails(*, organization_id: UUID) -> list[str]:
    """Where notices for an organization go: its active admins' addresses."""
    return list(
        Membership.objects.filter(organization_id=organization_id, role="org_admin", is_active=True)
        .order_by("created_at")
        .values_list("user__email", flat=True)
    )


def organization_names(*, organization_ids) -> dict:
    """Public names of organizations by id, whichever tenant asks (counterparties of an
    order or an RFQ may not read each other's organization rows).

    Read-only and limited to the name: the all-tenants scope is entered without an audit row.
    """
    from apps.core.context import system_scope

    with system_scope(reason="public names of counterparties", audit=False):
        return dict(Organization.objects.filter(id__in=list(organization_ids)).values_list("id", "name"))


def name_key(name: str) -> str:
    """A name as people tell names apart: NFKC (full-width and look-alike compatibility forms
    folded), lower case, whitespace collapsed. Equal keys read as the same name."""
    return " ".join(unicodedata.normalize("NFKC", name).lower().split())


# name_key in SQL: lower(btrim(regexp_replace(normalize(name, NFKC), '\s+', ' ', 'g'))).
_NAME_KEY = Lower(
    Trim(
        Func(
            Func(F("name"), function="normalize", template="%(function)s(%(expressions)s, NFKC)"),
            Value(r"\s+"),
            Value(" "),
            Value("g"),
            function="regexp_replace",
        )
    )
)


def organization_name_taken(*, name: str, excluding_organization_id) -> bool:
    """Whether an organization other than `excluding_organization_id` is called `name` (by
    name_key), whichever tenant asks: an offering must not pass for another organization.

    Answers yes or no only: the all-tenants scope is entered without an audit row, as for
    organization_names.
    """
    from apps.core.context import system_scope

    with system_scope(reason="a name against other organizations' names", audit=False):
        return (
            Organization.objects.exclude(id=excluding_organization_id)
            .alias(name_key=_NAME_KEY)
            .filter(name_key=name_key(name))
            .exists()
        )


def organization_plan(*, organization_id) -> str:
    """The subscription plan of an organization, whichever tenant asks (the commission of an
    escrow follows the supplier's plan, and the client creates the escrow).

    Read-only and limited to the plan: the all-tenants scope is entered without an audit row.
    """
    from apps.core.context import system_scope

    with system_scope(reason="subscription plan of a counterparty", audit=False):
        plan = Organization.objects.filter(id=organization_id).values_list("subscription_plan", flat=True).first()
    if plan is None:
        raise NotFound("Organization not found.")
    return plan


def organization_exists(*, organization_id) -> bool:
    """Whether the organization exists, read in the current scope: acting for an
    organization, its own row is visible (a webhook checks the tenant it was sent for)."""
    return Organization.objects.filter(id=organization_id).exists()


def organization_get_by_slug(*, slug: str) -> Organization:
    """The organization with this slug (the demo data finds its organizations so), else 404."""
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise NotFound("Organization not found.")
    return organization


def organization_queryset() -> QuerySet[Organization]:
    """Every organization the current scope sees, as a queryset to filter or annotate from
    (other contexts' admin filters and name columns)."""
    return Organization.objects.all()


def members_with_roles(*, organization_ids, roles) -> list[tuple[UUID, UUID]]:
    """(user id, organization id) of the active members of active users holding one of `roles`
    in those organizations. Reading other organizations' members needs the all-tenants
    scope (the notifications fan-out opens it for this read alone)."""
    if not organization_ids or not roles:
        return []
    return list(
        Membership.objects.filter(
            organization_id__in=organization_ids, role__in=roles, is_active=True, user__is_active=True
        )
        .order_by("organization_id", "user_id")
        .values_list("user_id", "organization_id")
    )
