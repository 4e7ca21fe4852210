"""push_send and vapid_public_key against the push sandbox: encrypted by pywebpush, decrypted there."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured

from apps.core.task_bases import TransientError
from apps.notifications.providers.push import (
    MAX_PAYLOAD_BYTES,
    PushRejected,
    PushResult,
    PushSubscriptionGone,
    PushUnavailable,
    _signer,
    push_send,
    vapid_public_key,
)
from tests.support import free_port


@pytest.fixture
def web_push(push_sandbox, settings):
    settings.WEB_PUSH = push_sandbox.web_push_settings()
    return push_sandbox


def send_to(subscription: dict, payload: dict | None = None, **options) -> PushResult:
    return push_send(
        endpoint=subscription["endpoint"],
        p256dh=subscription["keys"]["p256dh"],
        auth=subscription["keys"]["auth"],
        payload=payload if payload is not None else {"title": "Offer accepted", "url": "/orders/42"},
        **options,
    )


def test_a_payload_crosses_encrypted_and_arrives_decrypted(web_push):
    subscription = web_push.subscribe(application_server_key=web_push.vapid_public_key)
    payload = {"title": "Оплата получена", "body": "Escrow 42 is funded ✓", "url": "/escrow/42"}

    result = send_to(subscription, payload, ttl=120, urgency="high")

    assert result.provider_id.startswith(f"{web_push.url}/m/")
    [message] = web_push.messages(subscription["id"])
    assert message["json"] == payload
    assert message["ttl"] == 120
    assert message["urgency"] == "high"
    assert message["vapid_key"] == web_push.vapid_public_key


def test_the_ttl_defaults_to_the_setting(web_push, settings):
    settings.WEB_PUSH = web_push.web_push_settings(TTL=777)
    subscription = web_push.subscribe()

    send_to(subscription)

    assert web_push.messages(subscription["id"])[0]["ttl"] == 777


def test_a_gone_subscription_raises_gone(web_push):
    subscription = web_push.subscribe()
    web_push.unsubscribe(subscription["id"])

    with pytest.raises(PushSubscriptionGone):
        send_to(subscription)


def test_an_unknown_subscription_404_raises_gone(web_push):
    subscription = web_push.subscribe()
    unknown = {**subscription, "endpoint": f"{web_push.url}/push/{'0' * 24}"}

    with pytest.raises(PushSubscriptionGone):
        send_to(unknown)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_throttled_or_failing_push_service_is_unavailable_and_transient(web_push, status):
    subscription = web_push.subscribe(answer_status=status)

    with pytest.raises(PushUnavailable) as unavailable:
        send_to(subscription)

    assert isinstance(unavailable.value, TransientError)
    assert unavailable.value.retry_after == ("1" if status in {429, 503} else None)


def test_a_push_service_nobody_listens_on_is_unavailable(web_push):
    subscription = web_push.subscribe()
    elsewhere = {**subscription, "endpoint": f"http://127.0.0.1:{free_port()}/push/{subscription['id']}"}

    with pytest.raises(PushUnavailable):
        send_to(elsewhere)


def test_another_4xx_is_rejected_for_good(web_push):
    subscription = web_push.subscribe(answer_status=400)

    with pytest.raises(PushRejected) as rejected:
        send_to(subscription)

    assert rejected.value.status_code == 400
    assert not isinstance(rejected.value, TransientError)


def test_a_subscription_made_for_another_vapid_key_is_rejected(web_push, settings):
    subscription = web_push.subscribe(application_server_key=web_push.vapid_public_key)
    settings.WEB_PUSH = web_push.web_push_settings(
        VAPID_PRIVATE_KEY="AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE", VAPID_PUBLIC_KEY=""
    )

    with pytest.raises(PushRejected) as rejected:
        send_to(subscription)

    assert rejected.value.status_code == 403
    assert web_push.messages(subscription["id"]) == []


def test_without_a_vapid_key_nothing_is_sent(web_push, settings):
    subscription = web_push.subscribe()
    settings.WEB_PUSH = web_push.web_push_settings(VAPID_PRIVATE_KEY="")

    with pytest.raises(ImproperlyConfigured):
        send_to(subscription)
    with pytest.raises(ImproperlyConfigured):
        vapid_public_key()
    assert web_push.messages(subscription["id"]) == []


def test_an_http_endpoint_is_refused_unless_allowed(web_push, settings):
    settings.WEB_PUSH = web_push.web_push_settings(ALLOW_HTTP_ENDPOINTS=False)
    subscription = web_push.subscribe()

    with pytest.raises(PushRejected):
        send_to(subscription)
    assert web_push.messages(subscription["id"]) == []


def test_a_payload_too_large_for_a_push_is_rejected_before_sending(web_push):
    subscription = web_push.subscribe()

    with pytest.raises(PushRejected):
        send_to(subscription, {"body": "x" * MAX_PAYLOAD_BYTES})
    assert web_push.messages(subscription["id"]) == []


def test_subscription_keys_that_are_not_keys_are_rejected(web_push):
    subscription = web_push.subscribe()
    broken = {**subscription, "keys": {"p256dh": "bm90LWEta2V5", "auth": subscription["keys"]["auth"]}}

    with pytest.raises(PushRejected):
        send_to(broken)


def test_the_public_key_is_the_private_keys_half_whatever_the_private_keys_form(web_push, settings):
    assert vapid_public_key() == web_push.vapid_public_key

    pem = (
        _signer(web_push.vapid_private_key)
        .private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    settings.WEB_PUSH = web_push.web_push_settings(VAPID_PRIVATE_KEY=pem, VAPID_PUBLIC_KEY="")
    assert vapid_public_key() == web_push.vapid_public_key

    subscription = web_push.subscribe(application_server_key=web_push.vapid_public_key)
    send_to(subscription)
    assert len(web_push.messages(subscription["id"])) == 1


def test_a_public_key_that_does_not_match_the_private_key_is_improperly_configured(web_push, settings):
    settings.WEB_PUSH = web_push.web_push_settings(VAPID_PUBLIC_KEY="BAAA")

    with pytest.raises(ImproperlyConfigured):
        vapid_public_key()


def test_a_push_endpoint_on_a_private_address_is_refused_before_anything_is_sent(notification_sandboxes, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    subscription = notification_sandboxes.push.subscribe()

    with pytest.raises(PushRejected) as refused:
        push_send(
            endpoint=subscription["endpoint"],  # http://127.0.0.1:<port>/push/<id>
            p256dh=subscription["keys"]["p256dh"],
            auth=subscription["keys"]["auth"],
            payload={"title": "x"},
        )

    assert "may not be called" in str(refused.value)
    assert notification_sandboxes.push.messages(subscription["id"]) == []
