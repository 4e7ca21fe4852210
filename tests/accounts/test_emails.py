"""Account emails go out from a real Celery worker after the request commits."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.support import wait_until

NEW_PASSWORD = "a-much-longer-passphrase-2026"


def post(path: str, data: dict):
    return APIClient().post(f"/api/v1/auth/{path}", data, format="json")


@pytest.fixture
def outbox(celery_worker):
    mail.outbox.clear()
    yield mail.outbox
    mail.outbox.clear()


def test_sign_up_emails_a_verification_link_that_verifies_the_address(outbox):
    response = post("register", {"email": "signup@example.test", "password": NEW_PASSWORD})

    assert response.status_code == 202
    assert wait_until(lambda: len(outbox) == 1), "no verification email"
    message = outbox[0]
    assert message.to == ["signup@example.test"]
    token = re.search(r"token=(\S+)", message.body).group(1)
    from urllib.parse import unquote

    assert post("verify-email", {"token": unquote(token)}).status_code == 200


def test_a_reset_email_goes_to_a_known_address_and_none_to_an_unknown_one(outbox):
    user = UserFactory(email="known@example.test")

    post("reset-password", {"email": "unknown@example.test"})
    post("reset-password", {"email": "KNOWN@example.test"})

    # One queue, one worker, in order: once the second email is out, the first task has run.
    assert wait_until(lambda: len(outbox) >= 1), "no reset email"
    assert [m.to for m in outbox] == [[user.email]]
    uid, token = re.search(r"uid=([^&\s]+)&token=([^&\s]+)", outbox[0].body).groups()
    confirm = post("reset-password/confirm", {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert confirm.status_code == 200
    assert (
        APIClient()
        .post("/api/v1/auth/login", {"email": user.email, "password": NEW_PASSWORD}, format="json")
        .status_code
        == 200
    )
