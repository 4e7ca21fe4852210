"""apps.core.compiled: a values_list query compiled once gives the rows the ORM gives, for every
value of its placeholders, converted as the ORM converts them, under row-level security."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from apps.accounts.services import session_start
from apps.core.compiled import CompiledRows, instance
from apps.core.context import Scope, activate
from apps.tenancy import selectors
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, member

pytestmark = pytest.mark.django_db

STAND_IN = UUID(int=0xC0FFEE)


def _memberships(*, user_id):
    return (
        Membership.objects.filter(user_id=user_id, is_active=True)
        .order_by("created_at", "id")
        .values_list("id", "organization_id", "role", "extra_permissions", "organization__name", "joined_at")
    )


def test_the_rows_are_the_querysets_rows_for_each_value_converted_alike():
    rows = CompiledRows(_memberships, placeholders={"user_id": STAND_IN})
    first, second = member(OrganizationFactory()), member(OrganizationFactory(), role=Role.SHIPPER)
    MembershipFactory(user=first, organization=OrganizationFactory(), extra_permissions=["orders:read"])

    for user in (first, second, first):
        with activate(Scope(user_id=user.id)):
            assert rows.rows(user_id=user.id) == list(_memberships(user_id=user.id))
    with activate(Scope(user_id=first.id)):
        extra = [row[3] for row in rows.rows(user_id=first.id)]
    assert ["orders:read"] in extra  # the JSON column decoded, as the ORM decodes it


def test_row_level_security_still_decides_what_the_rows_are():
    rows = CompiledRows(_memberships, placeholders={"user_id": STAND_IN})
    mine, theirs = member(OrganizationFactory()), member(OrganizationFactory())

    with activate(Scope(user_id=mine.id)):
        assert rows.rows(user_id=theirs.id) == []  # another user's memberships: not readable here
        assert len(rows.rows(user_id=mine.id)) == 1


def test_a_queryset_it_cannot_compile_once_is_refused():
    with pytest.raises(ValueError, match="placeholders not found"):
        CompiledRows(lambda user_id: _memberships(user_id=STAND_IN), placeholders={"user_id": UUID(int=7)}).rows(
            user_id=STAND_IN
        )
    not_values = CompiledRows(
        lambda user_id: Membership.objects.filter(user_id=user_id), placeholders={"user_id": STAND_IN}
    )
    with pytest.raises(TypeError):
        not_values.rows(user_id=STAND_IN)


def test_instance_builds_a_partly_deferred_model_instance():
    organization = OrganizationFactory(name="Nordfracht")
    loaded = instance(Organization, ["id", "name"], (organization.id, organization.name))

    assert (loaded.pk, loaded.name) == (organization.id, "Nordfracht")
    assert loaded.get_deferred_fields() >= {"slug", "is_active"}


def test_the_callers_query_gives_what_the_orm_gives_and_checks_the_session():
    user = member(OrganizationFactory())
    MembershipFactory(user=user, organization=OrganizationFactory(), role=Role.CARRIER)
    session_id = session_start(user=user).session_id

    with activate(Scope(user_id=user.id)):
        caller, memberships = selectors.caller_with_memberships(user_id=user.id, session_id=session_id)
        expected = list(
            Membership.objects.filter(user_id=user.id, is_active=True)
            .select_related("organization")
            .order_by("created_at")
        )
        # The session is judged at the call's `now`, a value of the call, not of the compilation.
        after_its_expiry = selectors._CALLER_ROWS.rows(
            user_id=user.id, session_id=session_id, now=datetime(2999, 1, 1, tzinfo=UTC)
        )
    assert after_its_expiry == []

    assert caller.pk == user.pk and caller.email == user.email and caller.password == user.password
    assert [(m.id, m.role, m.organization.slug) for m in memberships] == [
        (m.id, m.role, m.organization.slug) for m in expected
    ]
    assert all(m.user is caller for m in memberships)
