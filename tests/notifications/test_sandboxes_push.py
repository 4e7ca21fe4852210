"""The push sandbox as a push service: it checks VAPID and the headers before it decrypts."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest
from py_vapid import Vapid
from pywebpush import WebPusher


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_signer(push_sandbox) -> Vapid:
    return Vapid.from_raw(push_sandbox.vapid_private_key.encode())


def authorization(push_sandbox, endpoint: str, **claims) -> dict:
    origin = endpoint.split("/push/")[0]
    claims = {"sub": "mailto:tests@manifest.test", "aud": origin, "exp": int(time.time()) + 3600, **claims}
    return vapid_signer(push_sandbox).sign(claims)


def push(subscription: dict, headers: dict, *, data: bytes = b'{"hello": "world"}', ttl: int = 60):
    pusher = WebPusher({"endpoint": subscription["endpoint"], "keys": subscription["keys"]})
    return pusher.send(data, headers, ttl=ttl, content_encoding="aes128gcm", timeout=5)


def test_a_subscription_hands_out_an_endpoint_and_browser_keys(push_sandbox):
    subscription = push_sandbox.subscribe()

    assert subscription["endpoint"] == f"{push_sandbox.url}/push/{subscription['id']}"
    assert len(b64url_decode(subscription["keys"]["p256dh"])) == 65  # an uncompressed P-256 point
    assert len(b64url_decode(subscription["keys"]["auth"])) == 16


def test_a_signed_push_is_decrypted_and_kept(push_sandbox):
    subscription = push_sandbox.subscribe()

    response = push(subscription, authorization(push_sandbox, subscription["endpoint"]))

    assert response.status_code == 201
    assert response.headers["Location"].startswith(f"{push_sandbox.url}/m/")
    [message] = push_sandbox.messages(subscription["id"])
    assert message["json"] == {"hello": "world"}
    assert message["ttl"] == 60


def test_a_push_without_vapid_is_refused_with_401(push_sandbox):
    subscription = push_sandbox.subscribe()

    response = push(subscription, {})

    assert response.status_code == 401
    assert push_sandbox.messages(subscription["id"]) == []


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "https://another.example"},
        {"exp": int(time.time()) - 60},
        {"exp": int(time.time()) + 25 * 3600},
        {"sub": "nobody"},
    ],
)
def test_a_vapid_token_with_a_wrong_audience_expiry_or_subject_is_refused(push_sandbox, claims):
    subscription = push_sandbox.subscribe()
    headers = authorization(push_sandbox, subscription["endpoint"])
    # Signed by hand: py_vapid itself refuses some of these claims before signing.
    token_claims = {
        "sub": "mailto:tests@manifest.test",
        "aud": subscription["endpoint"].split("/push/")[0],
        "exp": int(time.time()) + 3600,
        **claims,
    }
    token = jwt.encode(token_claims, vapid_signer(push_sandbox).private_key, algorithm="ES256")
    headers["Authorization"] = f"vapid t={token},k={headers['Authorization'].split(',k=')[1]}"

    assert push(subscription, headers).status_code == 401


def test_a_push_signed_by_another_key_than_the_subscriptions_is_forbidden(push_sandbox):
    other = Vapid()
    other.generate_keys()
    subscription = push_sandbox.subscribe(application_server_key=push_sandbox.vapid_public_key)
    origin = subscription["endpoint"].split("/push/")[0]

    response = push(subscription, other.sign({"sub": "mailto:x@manifest.test", "aud": origin}))

    assert response.status_code == 403


def test_a_push_without_ttl_or_with_another_encoding_is_refused(push_sandbox):
    subscription = push_sandbox.subscribe()
    headers = authorization(push_sandbox, subscription["endpoint"])
    encrypted = WebPusher({"endpoint": subscription["endpoint"], "keys": subscription["keys"]}).encode(b"{}")["body"]

    without_ttl = httpx.post(
        subscription["endpoint"], content=encrypted, headers={**headers, "Content-Encoding": "aes128gcm"}
    )
    other_encoding = httpx.post(
        subscription["endpoint"], content=encrypted, headers={**headers, "TTL": "60", "Content-Encoding": "aesgcm"}
    )

    assert without_ttl.status_code == 400
    assert "TTL" in without_ttl.json()["error"]
    assert other_encoding.status_code == 415


def test_a_body_it_cannot_decrypt_is_refused(push_sandbox):
    subscription = push_sandbox.subscribe()
    headers = authorization(push_sandbox, subscription["endpoint"])

    response = httpx.post(
        subscription["endpoint"],
        content=b"\x00" * 120,
        headers={**headers, "TTL": "60", "Content-Encoding": "aes128gcm"},
    )

    assert response.status_code == 400


def test_after_unsubscribing_a_push_answers_410_gone(push_sandbox):
    subscription = push_sandbox.subscribe()
    push_sandbox.unsubscribe(subscription["id"])

    response = push(subscription, authorization(push_sandbox, subscription["endpoint"]))

    assert response.status_code == 410


def test_the_messages_inspection_filters_by_subscription(push_sandbox):
    first, second = push_sandbox.subscribe(), push_sandbox.subscribe()

    push(first, authorization(push_sandbox, first["endpoint"]), data=json.dumps({"to": "first"}).encode())

    assert [message["json"] for message in push_sandbox.messages(first["id"])] == [{"to": "first"}]
    assert push_sandbox.messages(second["id"]) == []
