"""Lockout after repeated failed sign-ins, per account and per address, and unlocking."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.core.context import system_scope
from apps.core.models import AuditLog
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


def test_an_org_admin_cannot_lift_a_members_lockout(api):
    """Otherwise an admin could reset the count after every five guesses, without end."""
    organization = OrganizationFactory()
    admin = member(organization, Role.ORG_ADMIN)
    locked = member(organization, Role.SHIPPER)
    fail(locked.email, 5)
    rows = api(admin, organization).get(f"/api/v1/organizations/{organization.id}/members").json()["data"]
    row = next(m for m in rows if m["user"]["email"] == locked.email)

    response = api(admin, organization).post(f"/api/v1/organizations/{organization.id}/members/{row['id']}/unlock")

    assert response.status_code in (404, 405)
    assert sign_in(locked.email).json()["error_code"] == "AUTH_ACCOUNT_LOCKED"


def test_the_member_list_does_not_show_anyones_lockout_state(api):
    organization = OrganizationFactory()
    admin = member(organization, Role.ORG_ADMIN)
    locked = member(organization, Role.SHIPPER)
    fail(locked.email, 5)

    response = api(admin, organization).get(f"/api/v1/organizations/{organization.id}/members")

    row = next(m for m in response.json()["data"] if m["user"]["email"] == locked.email)
    assert not [key for key in row if "lock" in key]
    assert not [key for key in row["user"] if "lock" in key]


def test_platform_staff_lift_a_lockout_from_the_user_admin():
    from django.urls import reverse

    from tests.support import admin_client

    staff = UserFactory(is_staff=True, is_superuser=True)
    locked = UserFactory()
    fail(locked.email, 5)

    response = admin_client(staff).post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock_sign_in", "_selected_action": [str(locked.pk)]},
    )

    assert response.status_code == 302
    assert sign_in(locked.email).status_code == 200
    with system_scope(reason="test", audit=False):
        entry = AuditLog.objects.get(action="user.unlocked", resource_id=str(locked.id))
    assert entry.actor_id == staff.id


def test_the_users_own_password_reset_lifts_the_lockout():
    from apps.accounts.services import password_reset_link_parts

    locked = UserFactory()
    fail(locked.email, 5)
    uid, token = password_reset_link_parts(locked)  # what the reset e-mail carries
    new_password = "a-much-longer-passphrase-2026"

    reset = APIClient().post(
        "/api/v1/auth/reset-password/confirm",
        {"uid": uid, "token": token, "new_password": new_password},
        format="json",
    )

    assert reset.status_code == 200
    assert sign_in(locked.email, new_password).status_code == 200
