"""audit_record takes who acts as an Actor too (actor_id keeps working)."""

from __future__ import annotations

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import tenant_scope
from tests.factories import OrganizationFactory, member


def test_the_row_names_the_actors_user(db):
    organization = OrganizationFactory()
    signed_in, acting = member(organization), member(organization)

    with tenant_scope(organization.id, user_id=signed_in.id):
        row = audit_record(action="test.acted", actor=Actor.staff(acting.id))

    assert row.actor_id == acting.id


def test_the_system_names_nobody_so_the_scopes_user_stands(db):
    organization = OrganizationFactory()
    signed_in = member(organization)

    with tenant_scope(organization.id, user_id=signed_in.id):
        row = audit_record(action="test.acted", actor=Actor.system(organization_id=organization.id))

    assert row.actor_id == signed_in.id
