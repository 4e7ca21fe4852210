"""The SMS adapter against the SMS sandbox, over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core.task_bases import TransientError
from apps.notifications.providers.sms import (
    DeliveryReport,
    ReportRejected,
    SentMessage,
    SmsRejected,
    SmsUnavailable,
    UnknownSmsGateway,
    sms_gateway,
)
from tests.notifications.test_sandboxes_sms import ReportReceiver
from tests.support import free_port


@pytest.fixture
def gateway(sms_sandbox, settings):
    settings.SMS_GATEWAYS = sms_sandbox.gateway_settings()
    settings.SMS_GATEWAY = "sandbox"
    return sms_gateway()


def new_reference() -> str:
    return f"notification-{uuid4().hex}"


def signed(secret: str, body: bytes, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Sandbox-Signature": f"t={timestamp},v1={digest}"}


def recorded_report(gateway, sms_sandbox, *, to="+14155550100") -> tuple[str, str, bytes, dict]:
    reference = new_reference()
    sent = gateway.send(to=to, body="Your code is 123456", reference=reference)
    [attempt] = sms_sandbox.wait_for_report(sent.provider_id)
    return sent.provider_id, reference, attempt["body"].encode(), attempt["headers"]


def test_send_hands_the_message_to_the_gateway(gateway, sms_sandbox):
    reference = new_reference()

    sent = gateway.send(to="+4915112345678", body="Offer accepted", reference=reference)

    assert isinstance(sent, SentMessage)
    assert sent.status == "sent"
    assert sent.provider_id.startswith("sms_")
    [message] = [message for message in sms_sandbox.messages("+4915112345678") if message["reference"] == reference]
    assert message["id"] == sent.provider_id
    assert message["body"] == "Offer accepted"


def test_the_default_gateway_is_settings_sms_gateway_and_an_unknown_one_is_404(gateway, settings):
    assert sms_gateway("sandbox") is gateway

    with pytest.raises(UnknownSmsGateway) as unknown:
        sms_gateway("carrier-pigeon")
    assert unknown.value.status_code == 404


def test_a_changed_setting_builds_the_gateway_anew(gateway, sms_sandbox, settings):
    settings.SMS_GATEWAYS = sms_sandbox.gateway_settings(API_KEY="another-key")

    assert sms_gateway() is not gateway
    with pytest.raises(SmsRejected):
        sms_gateway().send(to="+14155550100", body="hello", reference=new_reference())


def test_a_gateway_without_its_key_is_improperly_configured(sms_sandbox, settings):
    settings.SMS_GATEWAYS = sms_sandbox.gateway_settings(SECRET="")

    with pytest.raises(ImproperlyConfigured):
        sms_gateway("sandbox")


@pytest.mark.parametrize(
    ("to", "body"),
    [("+15005550001", "hello"), ("0415555", "hello"), ("+14155550100", ""), ("+14155550100", "x" * 1601)],
)
def test_a_refused_number_or_body_is_rejected_for_good(gateway, to, body):
    with pytest.raises(SmsRejected) as rejected:
        gateway.send(to=to, body=body, reference=new_reference())

    assert rejected.value.status_code == 400
    assert not isinstance(rejected.value, TransientError)


def test_a_wrong_api_key_is_rejected(sms_sandbox, settings):
    settings.SMS_GATEWAYS = sms_sandbox.gateway_settings(API_KEY="wrong")

    with pytest.raises(SmsRejected) as rejected:
        sms_gateway().send(to="+14155550100", body="hello", reference=new_reference())

    assert rejected.value.status_code == 401


def test_a_503_is_unavailable_and_transient(gateway):
    with pytest.raises(SmsUnavailable) as unavailable:
        gateway.send(to="+15005550003", body="hello", reference=new_reference())

    assert isinstance(unavailable.value, TransientError)


def test_a_gateway_nobody_listens_on_is_unavailable(sms_sandbox, settings):
    settings.SMS_GATEWAYS = sms_sandbox.gateway_settings(URL=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(SmsUnavailable):
        sms_gateway().send(to="+14155550100", body="hello", reference=new_reference())


def test_a_gateway_that_does_not_answer_in_time_is_unavailable(sms_sandbox, settings):
    # A listening socket nobody accepts on: the connection is made, no answer ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings.SMS_GATEWAYS = sms_sandbox.gateway_settings(URL=f"http://127.0.0.1:{port}", TIMEOUT=0.3)

        started = time.monotonic()
        with pytest.raises(SmsUnavailable):
            sms_gateway().send(to="+14155550100", body="hello", reference=new_reference())

    assert time.monotonic() - started < 3


def test_a_signed_delivery_report_is_parsed(gateway, sms_sandbox):
    provider_id, reference, body, headers = recorded_report(gateway, sms_sandbox)

    report = gateway.parse_report(body=body, headers=headers)

    assert report == DeliveryReport(provider_id=provider_id, reference=reference, status="delivered", error="")


def test_a_failed_delivery_report_carries_the_providers_error(gateway, sms_sandbox):
    _provider_id, _reference, body, headers = recorded_report(gateway, sms_sandbox, to="+15005550002")

    report = gateway.parse_report(body=body, headers=headers)

    assert report.status == "failed"
    assert "unreachable" in report.error


def test_the_report_reaches_the_status_callback_and_parses_there(sms_sandbox, settings):
    receiver = ReportReceiver()
    try:
        settings.SMS_GATEWAYS = sms_sandbox.gateway_settings(STATUS_CALLBACK_URL=receiver.url)
        gateway = sms_gateway()
        sent = gateway.send(to="+14155550100", body="hello", reference=new_reference())
        sms_sandbox.wait_for_report(sent.provider_id)
    finally:
        receiver.close()

    [(body, headers)] = receiver.received
    assert gateway.parse_report(body=body, headers=headers).provider_id == sent.provider_id


def test_a_report_with_a_bad_signature_is_refused(gateway, sms_sandbox):
    _provider_id, _reference, body, headers = recorded_report(gateway, sms_sandbox)
    forged = body.replace(b'"delivered"', b'"failed"')

    for attempt_body, attempt_headers in (
        (forged, headers),
        (body, {}),
        (body, signed("not-the-secret", body)),
        (body, {"Sandbox-Signature": "t=abc,v1=zz"}),
    ):
        with pytest.raises(ValueError) as refused:
            gateway.parse_report(body=attempt_body, headers=attempt_headers)
        assert isinstance(refused.value, ReportRejected)
        assert refused.value.reason == "signature"


def test_a_report_signed_too_long_ago_is_stale(gateway, sms_sandbox):
    _provider_id, _reference, body, headers = recorded_report(gateway, sms_sandbox)

    with pytest.raises(ReportRejected) as refused:
        gateway.parse_report(body=body, headers=headers, now=datetime.now(UTC) + timedelta(minutes=6))

    assert refused.value.reason == "stale"
    assert gateway.parse_report(body=body, headers=headers, now=datetime.now(UTC) + timedelta(minutes=4))


@pytest.mark.parametrize(
    "report",
    [
        {"id": "sms_1", "reference": "r", "status": "lost", "error": None},
        {"id": "", "reference": "r", "status": "delivered", "error": None},
        {"reference": "r", "status": "delivered"},
        ["not", "an", "object"],
    ],
)
def test_a_well_signed_but_malformed_report_is_refused(gateway, sms_sandbox, report):
    body = json.dumps(report).encode()

    with pytest.raises(ReportRejected) as refused:
        gateway.parse_report(body=body, headers=signed(sms_sandbox.secret, body))

    assert refused.value.reason == "malformed"
