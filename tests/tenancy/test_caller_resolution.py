"""A bearer token's user and memberships are read in one query, and nothing of it is kept:
the very next request with the same token sees a revoked session, a deactivated user, a
removed membership or a changed role."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import session_start
from apps.accounts.services.sessions import session_revoke
from apps.core.context import system_scope
from apps.tenancy.models import Membership
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def _client(user) -> tuple[APIClient, object]:
    session = session_start(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session.access}")
    return client, session


def test_a_revoked_session_is_refused_on_the_next_request_of_a_member():
    organization = OrganizationFactory()
    user = member(organization)
    client, session = _client(user)
    url = f"/api/v1/organizations/{organization.id}/members"
    assert client.get(url).status_code == 200

    session_revoke(user_id=user.id, session_id=session.session_id)

    refused = client.get(url)
    assert refused.status_code == 401
    assert refused.json()["error_code"] == "AUTH_TOKEN_INVALID"


def test_a_deactivated_member_user_is_refused_on_the_next_request():
    organization = OrganizationFactory()
    user = member(organization)
    client, _ = _client(user)
    url = f"/api/v1/organizations/{organization.id}/members"
    assert client.get(url).status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    assert client.get(url).status_code == 401


def test_a_removed_membership_is_refused_on_the_next_request_with_the_same_token():
    organization = OrganizationFactory()
    colleague = MembershipFactory(organization=organization, role=Role.ORG_ADMIN)
    member(organization)  # another admin stays
    client, _ = _client(colleague.user)
    url = f"/api/v1/organizations/{organization.id}/members"
    assert client.get(url).status_code == 200

    with system_scope(reason="test: remove the membership"):
        Membership.objects.filter(id=colleague.id).update(is_active=False)

    assert client.get(url).status_code == 404  # the path's organization is no longer the caller's
    assert client.get("/api/v1/me").status_code == 200  # still signed in, with no organization


def test_a_changed_role_is_decided_on_the_next_request():
    organization = OrganizationFactory()
    colleague = MembershipFactory(organization=organization, role=Role.ORG_ADMIN)
    member(organization)
    client, _ = _client(colleague.user)
    url = f"/api/v1/organizations/{organization.id}/members/{colleague.id}"
    body = {"role": "carrier"}
    with system_scope(reason="test: demote"):
        Membership.objects.filter(id=colleague.id).update(role=Role.CARRIER)

    assert client.patch(url, body, format="json").status_code == 403  # no longer an admin


def test_a_token_of_a_user_without_memberships_still_signs_in():
    client, _ = _client(UserFactory())

    assert client.get("/api/v1/me").status_code == 200


def test_a_bad_organization_header_is_answered_after_the_token_user_check():
    user = UserFactory()
    client, _ = _client(user)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert client.get("/api/v1/me", HTTP_X_ORGANIZATION_ID="not-a-uuid").status_code == 401
