"""Sign-in, refresh-token rotation with reuse detection, sessions and sign-out, through the API."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.core.context import system_scope
from apps.core.models import AuditLog
from tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def sign_in(email: str, password: str = PASSWORD, client: APIClient | None = None):
    return (client or APIClient()).post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(token: str):
    return APIClient().post("/api/v1/auth/refresh", {"refresh": token}, format="json")


def audit_actions() -> list[str]:
    with system_scope(reason="test reads the audit log", audit=False):
        return list(AuditLog.objects.values_list("action", flat=True))


def test_sign_in_returns_tokens_that_open_the_api():
    user = member()

    response = sign_in(user.email)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    me = bearer(body["access"]).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == user.email


def test_sign_in_is_case_insensitive_on_the_email():
    UserFactory(email="mixed.case@example.test")

    assert sign_in("  Mixed.Case@Example.TEST ").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer():
    user = UserFactory()

    wrong_password = sign_in(user.email, "not-the-password")
    unknown = sign_in("nobody@example.test", "not-the-password")

    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.json()["error_code"] == unknown.json()["error_code"] == "AUTH_TOKEN_INVALID"
    assert wrong_password.json()["message"] == unknown.json()["message"]
    assert audit_actions().count("auth.login_failed") == 2


def test_refresh_rotates_the_refresh_token():
    user = UserFactory()
    first = sign_in(user.email).json()

    rotated = refresh(first["refresh"])

    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh"] != first["refresh"]
    assert second["session_id"] == first["session_id"]
    assert bearer(second["access"]).get("/api/v1/me").status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_session():
    user = UserFactory()
    first = sign_in(user.email).json()
    second = refresh(first["refresh"]).json()

    reuse = refresh(first["refresh"])

    assert reuse.status_code == 401
    assert reuse.json()["error_code"] == "AUTH_TOKEN_INVALID"
    # Both holders lose the session: the newest refresh token and the access tokens die too.
    assert refresh(second["refresh"]).status_code == 401
    assert bearer(second["access"]).get("/api/v1/me").status_code == 401
    assert bearer(first["access"]).get("/api/v1/me").status_code == 401
    assert "auth.session_revoked" in audit_actions()


def test_a_revoked_session_cannot_refresh_and_its_access_token_stops_at_once():
    user = UserFactory()
    kept = sign_in(user.email).json()
    doomed = sign_in(user.email).json()

    response = bearer(kept["access"]).delete(f"/api/v1/auth/sessions/{doomed['session_id']}")

    assert response.status_code == 204
    assert refresh(doomed["refresh"]).status_code == 401
    rejected = bearer(doomed["access"]).get("/api/v1/me")
    assert rejected.status_code == 401
    assert rejected.json()["error_code"] == "AUTH_TOKEN_INVALID"
    assert bearer(kept["access"]).get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("with_membership", [False, True])
def test_a_revoked_sessions_access_token_is_refused_by_the_database_even_without_the_redis_mark(with_membership):
    from django.core.cache import cache

    from apps.accounts.tokens import REVOKED_SESSION_KEY

    user = member() if with_membership else UserFactory()
    kept = sign_in(user.email).json()
    doomed = sign_in(user.email).json()
    assert bearer(doomed["access"]).get("/api/v1/me").status_code == 200

    assert bearer(kept["access"]).delete(f"/api/v1/auth/sessions/{doomed['session_id']}").status_code == 204
    cache.delete(REVOKED_SESSION_KEY.format(doomed["session_id"]))  # Redis flushed: the mark is gone

    rejected = bearer(doomed["access"]).get("/api/v1/me")
    assert rejected.status_code == 401
    assert rejected.json()["error_code"] == "AUTH_TOKEN_INVALID"
    assert "signed out" in rejected.json()["message"]
    assert bearer(kept["access"]).get("/api/v1/me").status_code == 200


def test_logout_signs_out_the_current_session_only():
    user = UserFactory()
    current = sign_in(user.email).json()
    other = sign_in(user.email).json()

    response = bearer(current["access"]).post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert bearer(current["access"]).get("/api/v1/me").status_code == 401
    assert refresh(current["refresh"]).status_code == 401
    assert bearer(other["access"]).get("/api/v1/me").status_code == 200


def test_sessions_lists_the_users_live_sessions_and_marks_the_current_one():
    user = UserFactory()
    current = sign_in(user.email).json()
    other = sign_in(user.email).json()
    signed_out = sign_in(user.email).json()
    bearer(signed_out["access"]).post("/api/v1/auth/logout")
    stranger = sign_in(UserFactory().email).json()

    sessions = bearer(current["access"]).get("/api/v1/auth/sessions").json()["data"]

    assert {s["id"] for s in sessions} == {current["session_id"], other["session_id"]}
    assert [s["current"] for s in sessions if s["id"] == current["session_id"]] == [True]
    assert stranger["session_id"] not in {s["id"] for s in sessions}


def test_one_user_cannot_revoke_another_users_session():
    victim = sign_in(UserFactory().email).json()
    attacker = sign_in(UserFactory().email).json()

    response = bearer(attacker["access"]).delete(f"/api/v1/auth/sessions/{victim['session_id']}")

    assert response.status_code == 404
    assert bearer(victim["access"]).get("/api/v1/me").status_code == 200


def test_an_unknown_refresh_token_is_invalid():
    response = refresh("not-a-token-we-issued")

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"


def test_an_expired_session_cannot_refresh(settings):
    from datetime import timedelta

    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "REFRESH_TOKEN_LIFETIME": timedelta(seconds=-1)}
    user = UserFactory()
    tokens = sign_in(user.email).json()

    response = refresh(tokens["refresh"])

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_EXPIRED"


def test_a_deactivated_user_cannot_refresh_or_use_the_api():
    user = UserFactory()
    tokens = sign_in(user.email).json()
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert refresh(tokens["refresh"]).status_code == 401
    assert bearer(tokens["access"]).get("/api/v1/me").status_code == 401


def test_session_list_runs_the_same_number_of_queries_for_2_or_12_sessions(django_assert_num_queries):
    user = UserFactory()
    client = bearer(sign_in(user.email).json()["access"])
    sign_in(user.email)
    client.get("/api/v1/auth/sessions")

    # user, savepoint, user scope, memberships, page, release, restore (a page shorter than
    # `limit` holds the list's end: its rows are the total, no count query)
    with django_assert_num_queries(7) as few:
        assert client.get("/api/v1/auth/sessions").json()["meta"]["total"] == 2
    expected = len(few.captured_queries)  # read now: each request empties Django's query log
    for _ in range(10):
        sign_in(user.email)
    with django_assert_num_queries(expected):
        assert client.get("/api/v1/auth/sessions").json()["meta"]["total"] == 12
