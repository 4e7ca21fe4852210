"""MembershipSerializer writes its representation directly (the member list's hot path):
it must equal what DRF's declared fields give, for every shape a membership takes."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework import serializers

from apps.core.context import system_scope, tenant_scope
from apps.tenancy.api.serializers import MembershipSerializer
from apps.tenancy.roles import Role
from apps.tenancy.selectors import member_list
from tests.factories import MembershipFactory, OrganizationFactory, member

pytestmark = pytest.mark.django_db


def _drf(membership):
    serializer = MembershipSerializer(membership)
    return serializers.ModelSerializer.to_representation(serializer, membership)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_the_direct_representation_equals_drfs(zone):
    organization = OrganizationFactory()
    admin = member(organization)
    plain = MembershipFactory(organization=organization, role=Role.CARRIER, joined_at=None)
    invited = MembershipFactory(
        organization=organization,
        role=Role.SHIPPER,
        invited_by=admin,
        extra_permissions=["orders.view"],
        joined_at=datetime.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=datetime.UTC),
        is_active=False,
    )
    with system_scope(reason="test: read the admin's membership"):
        own = admin.memberships.select_related("user").get()
    with timezone.override(zone):
        for membership in (plain, invited, own):
            assert MembershipSerializer(membership).data == _drf(membership)
            assert list(MembershipSerializer(membership).data) == list(MembershipSerializer.Meta.fields)


def test_the_member_list_is_what_drf_would_render(api):
    organization = OrganizationFactory()
    admin = member(organization)
    MembershipFactory(organization=organization, role=Role.CARRIER, invited_by=admin)

    page = api(admin).get(f"/api/v1/organizations/{organization.id}/members").json()["data"]

    with tenant_scope(organization.id, user_id=admin.id):
        expected = [_drf(m) for m in member_list(organization_id=organization.id)]
    assert page == [dict(row) for row in expected]
