"""Bad access tokens get 401 in the envelope; only tokens we signed for a live session pass."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.services import session_start
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def me_with(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/v1/me")


@pytest.fixture
def user_and_session():
    user = UserFactory()
    return user, session_start(user=user)


def claims_of(access: str) -> dict:
    return jwt.decode(access, options={"verify_signature": False})


def test_a_token_we_signed_for_a_live_session_passes(user_and_session):
    _, tokens = user_and_session

    assert me_with(tokens.access).status_code == 200


def test_algorithm_none_is_rejected_even_with_genuine_claims(user_and_session):
    _, tokens = user_and_session
    forged = jwt.encode(claims_of(tokens.access), None, algorithm="none")

    response = me_with(forged)

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"


def test_a_token_signed_with_another_key_is_rejected(user_and_session):
    _, tokens = user_and_session
    forged = jwt.encode(claims_of(tokens.access), "some-other-key-" * 4, algorithm="HS256")

    assert me_with(forged).json()["error_code"] == "AUTH_TOKEN_INVALID"


def test_a_token_with_another_algorithm_is_rejected(user_and_session):
    _, tokens = user_and_session
    forged = jwt.encode(claims_of(tokens.access), "some-other-key-" * 5, algorithm="HS512")

    assert me_with(forged).status_code == 401


def test_an_expired_token_gets_token_expired(user_and_session):
    user, tokens = user_and_session
    token = AccessToken.for_user(user)
    token["sid"] = str(tokens.session_id)
    token.set_exp(lifetime=-timedelta(minutes=1))

    response = me_with(str(token))

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_EXPIRED"


def test_a_signed_token_without_a_session_is_rejected(user_and_session):
    user, _ = user_and_session

    assert me_with(str(AccessToken.for_user(user))).json()["error_code"] == "AUTH_TOKEN_INVALID"


def test_a_refresh_token_is_not_an_access_token(user_and_session):
    _, tokens = user_and_session

    assert me_with(tokens.refresh).status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a.b.c", "Bearer " + "x" * 5000])
def test_malformed_tokens_get_token_invalid(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"


def test_login_over_the_per_account_limit_answers_429_with_retry_after(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": "3/min"}
    user = UserFactory()
    client = APIClient()

    answers = [
        client.post("/api/v1/auth/login", {"email": user.email, "password": "x"}, format="json") for _ in range(4)
    ]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[3].json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert 0 < int(answers[3]["Retry-After"]) <= 60


def test_reset_requests_over_the_per_address_limit_answer_429(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "reset_account": "2/hour"}
    client = APIClient()

    answers = [
        client.post("/api/v1/auth/reset-password", {"email": "Someone@Example.test"}, format="json"),
        client.post("/api/v1/auth/reset-password", {"email": "someone@example.test "}, format="json"),
        client.post("/api/v1/auth/reset-password", {"email": "SOMEONE@example.test"}, format="json"),
    ]

    assert [a.status_code for a in answers] == [202, 202, 429]
