"""Who acts on a back-office page: platform staff, or the organization admin with their membership."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from apps.tenancy.admin_site import admin_actor
from apps.tenancy.roles import Role


def page_request(*, is_staff: bool, membership=None):
    user = SimpleNamespace(id=uuid.uuid4(), is_active=True, is_staff=is_staff)
    return SimpleNamespace(user=user, admin_membership=membership)


def test_platform_staff_act_as_staff_for_the_organization_the_page_works_on():
    organization_id = uuid.uuid4()
    request = page_request(is_staff=True)

    actor = admin_actor(request, organization_id=organization_id)

    assert (actor.user_id, actor.organization_id, actor.is_staff, actor.role) == (
        request.user.id,
        organization_id,
        True,
        "",
    )


def test_an_organization_admin_acts_with_their_membership_whatever_the_page_names():
    membership = SimpleNamespace(organization_id=uuid.uuid4(), role=Role.ORG_ADMIN, extra_permissions=["report:export"])
    request = page_request(is_staff=False, membership=membership)

    actor = admin_actor(request, organization_id=uuid.uuid4())

    assert (actor.user_id, actor.organization_id, actor.is_staff, actor.role, actor.extra_permissions) == (
        request.user.id,
        membership.organization_id,
        False,
        Role.ORG_ADMIN,
        ("report:export",),
    )
