"""Sign-up, email verification, password policy, change and reset, through the API."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.accounts.services import email_verification_token, password_reset_link_parts
from apps.core.context import system_scope
from apps.tenancy.models import Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-much-longer-passphrase-2026"


def post(path: str, data: dict, client: APIClient | None = None):
    return (client or APIClient()).post(f"/api/v1/auth/{path}", data, format="json")


def sign_in(email: str, password: str = PASSWORD):
    return post("login", {"email": email, "password": password})


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def register(email="new.person@example.test", password=NEW_PASSWORD, **extra):
    return post("register", {"email": email, "password": password, "first_name": "New", **extra})


# --- Sign-up ------------------------------------------------------------------------------


def test_sign_up_creates_an_unverified_user_who_can_sign_in():
    response = register()

    assert response.status_code == 202
    user = User.objects.get(email="new.person@example.test")
    assert user.email_verified_at is None
    assert user.password_changed_at is not None
    assert sign_in(user.email, NEW_PASSWORD).status_code == 200


def test_sign_up_with_an_organization_makes_the_user_its_admin():
    register(organization_name="Fresh Freight")

    user = User.objects.get(email="new.person@example.test")
    with system_scope(reason="test", audit=False):
        membership = Membership.objects.select_related("organization").get(user=user)
    assert membership.role == "org_admin"
    assert membership.organization.name == "Fresh Freight"


def test_sign_up_with_a_taken_address_answers_the_same_and_changes_nothing():
    existing = UserFactory(email="taken@example.test")

    taken = register(email="Taken@Example.test")
    fresh = register(email="fresh@example.test")

    assert taken.status_code == fresh.status_code == 202
    assert taken.json() == fresh.json()
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short-pass1", "too short"), ("password1234", "too common"), ("84736251094857", "entirely numeric")],
)
def test_a_weak_password_is_refused_with_the_reason_and_nothing_is_created(password, reason):
    response = register(password=password)

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert reason in " ".join(response.json()["details"]["password"])
    assert not User.objects.filter(email="new.person@example.test").exists()


def test_the_verification_link_works_once():
    register()
    user = User.objects.get(email="new.person@example.test")
    token = email_verification_token(user)

    first = post("verify-email", {"token": token})
    second = post("verify-email", {"token": token})

    assert first.status_code == 200
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert second.status_code == 400


def test_a_tampered_verification_token_is_refused():
    register()
    token = email_verification_token(User.objects.get(email="new.person@example.test"))

    response = post("verify-email", {"token": token[:-2] + "xx"})

    assert response.status_code == 400
    assert User.objects.get(email="new.person@example.test").email_verified_at is None


def test_an_expired_verification_token_is_refused(settings):
    register()
    token = email_verification_token(User.objects.get(email="new.person@example.test"))
    settings.EMAIL_VERIFICATION_MAX_AGE = -1

    assert post("verify-email", {"token": token}).status_code == 400


# --- Changing the password ----------------------------------------------------------------


def test_changing_the_password_signs_out_the_other_sessions_only():
    user = UserFactory()
    current = sign_in(user.email).json()
    other = sign_in(user.email).json()

    response = post(
        "change-password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        client=bearer(current["access"]),
    )

    assert response.status_code == 204
    assert bearer(current["access"]).get("/api/v1/me").status_code == 200
    assert bearer(other["access"]).get("/api/v1/me").status_code == 401
    assert post("refresh", {"refresh": other["refresh"]}).status_code == 401
    assert sign_in(user.email, NEW_PASSWORD).status_code == 200
    user.refresh_from_db()
    assert user.password_changed_at is not None


def test_changing_the_password_needs_the_current_one():
    user = UserFactory()
    client = bearer(sign_in(user.email).json()["access"])

    response = post("change-password", {"current_password": "guess-123456", "new_password": NEW_PASSWORD}, client)

    assert response.status_code == 400
    assert sign_in(user.email).status_code == 200


# --- Resetting the password ---------------------------------------------------------------


def test_reset_request_answers_the_same_for_known_and_unknown_addresses():
    user = UserFactory()

    known = post("reset-password", {"email": user.email})
    unknown = post("reset-password", {"email": "nobody@example.test"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()


def test_a_reset_link_sets_the_password_once_and_signs_every_session_out():
    user = UserFactory()
    session = sign_in(user.email).json()
    user.refresh_from_db()  # the link is made from the stored account (its last sign-in included)
    uid, token = password_reset_link_parts(user)

    first = post("reset-password/confirm", {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    second = post("reset-password/confirm", {"uid": uid, "token": token, "new_password": "yet-another-passphrase-9"})

    assert first.status_code == 200
    assert second.status_code == 400
    assert bearer(session["access"]).get("/api/v1/me").status_code == 401
    assert sign_in(user.email, NEW_PASSWORD).status_code == 200


def test_a_reset_link_also_lifts_a_lockout():
    user = UserFactory()
    for _ in range(5):
        sign_in(user.email, "wrong-password-123")
    uid, token = password_reset_link_parts(user)

    post("reset-password/confirm", {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    assert sign_in(user.email, NEW_PASSWORD).status_code == 200


def test_an_expired_reset_link_is_refused(settings):
    user = UserFactory()
    uid, token = password_reset_link_parts(user)
    settings.PASSWORD_RESET_TIMEOUT = -1

    response = post("reset-password/confirm", {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert sign_in(user.email).status_code == 200


def test_a_reset_with_a_weak_password_changes_nothing():
    user = UserFactory()
    uid, token = password_reset_link_parts(user)

    response = post("reset-password/confirm", {"uid": uid, "token": token, "new_password": "short"})

    assert response.status_code == 400
    assert "new_password" in response.json()["details"]
    assert sign_in(user.email).status_code == 200


def test_a_garbled_reset_uid_is_refused():
    response = post("reset-password/confirm", {"uid": "!!!", "token": "x", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
