"""TOTP two-factor: enrolment, sign-in with a code or a backup code, turning it off."""

from __future__ import annotations

import base64
import time

import pytest
from django_otp.oath import TOTP
from rest_framework.test import APIClient

from apps.core.context import system_scope
from apps.core.models import AuditLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def code_for(secret_base32: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows now (or `steps_ahead` 30-second steps later)."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def sign_in(email: str):
    return APIClient().post("/api/v1/auth/login", {"email": email, "password": PASSWORD}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def enrolled(user) -> tuple[APIClient, str, list[str]]:
    """The user signed in, with two-factor on: (their client, the TOTP secret, the backup codes)."""
    client = bearer(sign_in(user.email).json()["access"])
    secret = client.post("/api/v1/auth/enable-2fa").json()["secret_base32"]
    codes = client.post("/api/v1/auth/enable-2fa/confirm", {"code": code_for(secret)}, format="json").json()
    return client, secret, codes["backup_codes"]


def verify(challenge: str, code: str):
    return APIClient().post("/api/v1/auth/verify-2fa", {"challenge": challenge, "code": code}, format="json")


def test_enrolment_gives_an_otpauth_uri_and_a_qr_code():
    user = UserFactory()
    client = bearer(sign_in(user.email).json()["access"])

    response = client.post("/api/v1/auth/enable-2fa")

    body = response.json()
    assert response.status_code == 200
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={body['secret_base32']}" in body["otpauth_uri"]
    assert "issuer=Manifest" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg")


def test_confirming_with_a_code_returns_ten_backup_codes_stored_only_as_hashes():
    from apps.accounts.models import BackupCodeDevice

    user = UserFactory()

    _, _, codes = enrolled(user)

    assert len(codes) == len(set(codes)) == 10
    stored = BackupCodeDevice.objects.get(user=user).code_hashes
    assert len(stored) == 10
    assert not set(codes) & set(stored)


def test_a_wrong_confirmation_code_leaves_two_factor_off():
    user = UserFactory()
    client = bearer(sign_in(user.email).json()["access"])
    client.post("/api/v1/auth/enable-2fa")

    response = client.post("/api/v1/auth/enable-2fa/confirm", {"code": "000000"}, format="json")

    assert response.status_code == 400
    assert sign_in(user.email).status_code == 200  # no second factor asked


def test_sign_in_with_two_factor_asks_for_a_code_then_issues_tokens():
    user = UserFactory()
    _, secret, _ = enrolled(user)

    first = sign_in(user.email)
    second = verify(first.json()["details"]["challenge"], code_for(secret, steps_ahead=1))

    assert first.status_code == 401
    assert first.json()["error_code"] == "AUTH_2FA_REQUIRED"
    assert "access" not in first.json()
    assert second.status_code == 200
    assert bearer(second.json()["access"]).get("/api/v1/me").status_code == 200


def test_a_wrong_code_is_refused_and_counted():
    user = UserFactory()
    enrolled(user)
    challenge = sign_in(user.email).json()["details"]["challenge"]

    response = verify(challenge, "123456")

    assert response.status_code == 401
    user.refresh_from_db()
    assert user.failed_login_count == 1


def test_a_backup_code_works_once():
    user = UserFactory()
    _, _, codes = enrolled(user)

    first = verify(sign_in(user.email).json()["details"]["challenge"], codes[0])
    again = verify(sign_in(user.email).json()["details"]["challenge"], codes[0])

    assert first.status_code == 200
    assert again.status_code == 401
    assert verify(sign_in(user.email).json()["details"]["challenge"], codes[1].lower()).status_code == 200


def test_a_challenge_cannot_be_used_twice():
    user = UserFactory()
    _, _, codes = enrolled(user)
    challenge = sign_in(user.email).json()["details"]["challenge"]
    assert verify(challenge, codes[0]).status_code == 200

    replay = verify(challenge, codes[1])

    assert replay.status_code == 401
    # The refused replay did not spend the second code.
    assert verify(sign_in(user.email).json()["details"]["challenge"], codes[1]).status_code == 200


def test_a_forged_challenge_is_rejected():
    user = UserFactory()
    _, secret, _ = enrolled(user)

    response = verify("eyJ1c2VyIjoiMSJ9:forged:signature", code_for(secret, 1))

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"


def test_two_factor_cannot_be_turned_off_without_a_code():
    user = UserFactory()
    client, _, _ = enrolled(user)

    missing = client.post("/api/v1/auth/disable-2fa", {}, format="json")
    wrong = client.post("/api/v1/auth/disable-2fa", {"code": "000000"}, format="json")

    assert missing.status_code == 400
    assert wrong.status_code == 400
    assert sign_in(user.email).json()["error_code"] == "AUTH_2FA_REQUIRED"


def test_two_factor_is_turned_off_with_a_current_code():
    user = UserFactory()
    client, secret, _ = enrolled(user)

    response = client.post("/api/v1/auth/disable-2fa", {"code": code_for(secret, 1)}, format="json")

    assert response.status_code == 204
    assert sign_in(user.email).status_code == 200
    with system_scope(reason="test", audit=False):
        actions = set(AuditLog.objects.filter(resource_id=str(user.id)).values_list("action", flat=True))
    assert {"auth.2fa_enabled", "auth.2fa_disabled"} <= actions


def test_enrolling_again_while_on_is_refused():
    user = UserFactory()
    client, _, _ = enrolled(user)

    response = client.post("/api/v1/auth/enable-2fa")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


# --- brute force of the second factor ---------------------------------------------------------


def test_twelve_wrong_codes_across_fresh_challenges_lock_the_account():
    """Signing in again with the right password must not reset the count of wrong codes."""
    user = UserFactory()
    enrolled(user)
    answers = []
    for attempt in range(12):
        if attempt % 4 == 0:  # a fresh challenge before the fifth wrong code of the last one
            login = sign_in(user.email)
            if login.json()["error_code"] != "AUTH_2FA_REQUIRED":
                answers.append(login)
                continue
            challenge = login.json()["details"]["challenge"]
        answers.append(verify(challenge, "000000"))

    codes = [a.json()["error_code"] for a in answers]
    assert codes[:4] == ["AUTH_TOKEN_INVALID"] * 4
    assert codes[4] == "AUTH_ACCOUNT_LOCKED"
    assert set(codes[5:]) == {"AUTH_ACCOUNT_LOCKED"}
    assert sign_in(user.email).json()["error_code"] == "AUTH_ACCOUNT_LOCKED"
    user.refresh_from_db()
    assert user.locked_until is not None


def test_a_challenge_is_void_after_five_wrong_codes(settings):
    settings.LOGIN_LOCKOUT_THRESHOLD = 100  # isolate the challenge's own limit from the lockout
    user = UserFactory()
    _, _, backup_codes = enrolled(user)
    challenge = sign_in(user.email).json()["details"]["challenge"]
    wrong = [verify(challenge, "AAAAA-AAAAA") for _ in range(5)]

    right_code_too_late = verify(challenge, backup_codes[0])

    assert [a.status_code for a in wrong] == [401] * 5
    assert right_code_too_late.status_code == 401
    assert right_code_too_late.json()["error_code"] == "AUTH_TOKEN_INVALID"
    assert "sign in again" in right_code_too_late.json()["message"]
    # The refused code was not spent, and a new sign-in gives a new challenge.
    fresh = sign_in(user.email).json()["details"]["challenge"]
    assert verify(fresh, backup_codes[0]).status_code == 200


def test_verify_2fa_is_throttled_per_challenge(settings):
    settings.LOGIN_LOCKOUT_THRESHOLD = 100
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "two_factor_challenge": "3/min"}
    user = UserFactory()
    enrolled(user)
    challenge = sign_in(user.email).json()["details"]["challenge"]

    answers = [verify(challenge, "000000") for _ in range(4)]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[3].json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert int(answers[3]["Retry-After"]) > 0


def test_verify_2fa_is_throttled_per_user_across_challenges(settings):
    settings.LOGIN_LOCKOUT_THRESHOLD = 100
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "two_factor_user": "3/min"}
    user = UserFactory()
    enrolled(user)
    first = sign_in(user.email).json()["details"]["challenge"]
    second = sign_in(user.email).json()["details"]["challenge"]

    answers = [verify(first, "000000"), verify(first, "000000"), verify(second, "000000"), verify(second, "000000")]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]


def test_twelve_quick_wrong_codes_meet_429_with_the_default_rates(settings):
    from config.settings import base

    settings.LOGIN_LOCKOUT_THRESHOLD = 100  # so that the answers show the throttle, not the lockout
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "two_factor_challenge": base.RATE_LIMITS["two_factor_challenge"],
        "two_factor_user": base.RATE_LIMITS["two_factor_user"],
    }
    user = UserFactory()
    enrolled(user)
    challenge = sign_in(user.email).json()["details"]["challenge"]

    answers = [verify(challenge, "000000") for _ in range(12)]

    assert 429 in [a.status_code for a in answers]
    assert [a.status_code for a in answers][-1] == 429
