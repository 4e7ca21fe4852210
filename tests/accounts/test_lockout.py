"""Lockout after repeated failed sign-ins, per account and per address, and unlocking."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.core.context import system_scope
from apps.tenancy.models import AuditLog
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def sign_in(email: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=ip).post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def fail(email: str, times: int, ip: str = "10.0.0.1") -> list:
    return [sign_in(email, "wrong-password-123", ip=ip) for _ in range(times)]


def test_fifth_failure_locks_the_account_even_for_the_right_password():
    user = UserFactory()

    answers = fail(user.email, 5)
    afterwards = sign_in(user.email)

    assert [a.status_code for a in answers] == [401] * 5
    assert [a.json()["error_code"] for a in answers[:4]] == ["AUTH_TOKEN_INVALID"] * 4
    assert answers[4].json()["error_code"] == "AUTH_ACCOUNT_LOCKED"
    assert afterwards.status_code == 401
    assert afterwards.json()["error_code"] == "AUTH_ACCOUNT_LOCKED"
    assert 0 < int(afterwards["Retry-After"]) <= 15 * 60
    user.refresh_from_db()
    assert user.locked_until is not None
    with system_scope(reason="test", audit=False):
        assert AuditLog.objects.filter(action="auth.account_locked", resource_id=str(user.id)).exists()
        assert AuditLog.objects.filter(action="auth.login_failed").count() == 5


def test_a_success_resets_the_failure_count():
    user = UserFactory()
    fail(user.email, 4)

    assert sign_in(user.email).status_code == 200
    fail(user.email, 4)

    assert sign_in(user.email).status_code == 200


def test_an_unknown_address_locks_like_a_known_one():
    """Locking only registered addresses would tell an attacker which ones exist."""
    answers = fail("nobody@example.test", 6)

    assert answers[4].json()["error_code"] == "AUTH_ACCOUNT_LOCKED"
    assert answers[5].json()["error_code"] == "AUTH_ACCOUNT_LOCKED"


def test_failures_from_one_address_across_accounts_lock_the_address(settings):
    settings.LOGIN_LOCKOUT_THRESHOLD_PER_IP = 6
    victims = [UserFactory() for _ in range(3)]
    for victim in victims:
        fail(victim.email, 2, ip="10.9.9.9")
    bystander = UserFactory()

    from_sprayer = sign_in(bystander.email, ip="10.9.9.9")
    from_elsewhere = sign_in(bystander.email, ip="10.1.1.1")

    assert from_sprayer.json()["error_code"] == "AUTH_ACCOUNT_LOCKED"
    assert from_elsewhere.status_code == 200


def test_org_admin_unlocks_a_member(api):
    organization = OrganizationFactory()
    admin = member(organization, Role.ORG_ADMIN)
    locked = member(organization, Role.SHIPPER)
    fail(locked.email, 5)
    membership_id = api(admin, organization).get(f"/api/v1/organizations/{organization.id}/members").json()["data"]
    row = next(m for m in membership_id if m["user"]["email"] == locked.email)
    assert row["sign_in_locked_until"] is not None

    response = api(admin, organization).post(f"/api/v1/organizations/{organization.id}/members/{row['id']}/unlock")

    assert response.status_code == 204
    assert sign_in(locked.email).status_code == 200
    with system_scope(reason="test", audit=False):
        entry = AuditLog.objects.get(action="user.unlocked", resource_id=str(locked.id))
    assert entry.actor_id == admin.id
    assert entry.organization_id == organization.id


def test_a_member_without_the_permission_cannot_unlock(api):
    organization = OrganizationFactory()
    shipper = member(organization, Role.SHIPPER)
    locked = member(organization, Role.CARRIER)
    fail(locked.email, 5)
    rows = api(shipper, organization).get(f"/api/v1/organizations/{organization.id}/members").json()["data"]
    row = next(m for m in rows if m["user"]["email"] == locked.email)

    response = api(shipper, organization).post(f"/api/v1/organizations/{organization.id}/members/{row['id']}/unlock")

    assert response.status_code == 403
    assert sign_in(locked.email).json()["error_code"] == "AUTH_ACCOUNT_LOCKED"


def test_org_admin_cannot_unlock_a_member_of_another_organization(api):
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    admin = member(mine, Role.ORG_ADMIN)
    stranger_admin = member(theirs, Role.ORG_ADMIN)
    locked = member(theirs, Role.SHIPPER)
    fail(locked.email, 5)
    rows = api(stranger_admin, theirs).get(f"/api/v1/organizations/{theirs.id}/members").json()["data"]
    row = next(m for m in rows if m["user"]["email"] == locked.email)

    response = api(admin, mine).post(f"/api/v1/organizations/{theirs.id}/members/{row['id']}/unlock")

    assert response.status_code == 404
    assert sign_in(locked.email).json()["error_code"] == "AUTH_ACCOUNT_LOCKED"
