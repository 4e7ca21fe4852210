"""The SMS sandbox over raw HTTP: what it accepts, what it refuses, and its signed reports."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import uuid4

import httpx
import pytest

from sandboxes.sms_gateway import MAX_BODY_CHARACTERS


def post_message(sms_sandbox, *, to="+14155550100", body="Your code is 123456", api_key=None, callback=None):
    return httpx.post(
        f"{sms_sandbox.url}/v1/messages",
        json={"to": to, "body": body, "reference": f"ref-{uuid4().hex}", "status_callback": callback},
        headers={"Authorization": f"Bearer {api_key or sms_sandbox.api_key}"},
        timeout=5,
    )


class ReportReceiver:
    """A status-callback endpoint: keeps each report with its headers, answers `status`."""

    def __init__(self, status: int = 204):
        self.status = status
        self.received: list[tuple[bytes, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, dict(self.headers)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/reports"

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def report_receiver():
    receiver = ReportReceiver()
    yield receiver
    receiver.close()


def test_a_message_is_queued_with_an_sms_id(sms_sandbox):
    response = post_message(sms_sandbox, to="+447700900123")

    assert response.status_code == 201
    answer = response.json()
    assert answer["status"] == "queued"
    assert answer["id"].startswith("sms_")
    [message] = [message for message in sms_sandbox.messages("+447700900123") if message["id"] == answer["id"]]
    assert message["body"] == "Your code is 123456"


def test_a_wrong_api_key_is_refused_with_401(sms_sandbox):
    assert post_message(sms_sandbox, api_key="not-the-key").status_code == 401


@pytest.mark.parametrize("number", ["14155550100", "+0123456789", "+1 415 555 0100", "", "+15005550001"])
def test_a_malformed_or_magic_invalid_number_is_refused_with_400(sms_sandbox, number):
    response = post_message(sms_sandbox, to=number)

    assert response.status_code == 400
    assert "E.164" in response.json()["error"]


def test_an_empty_or_too_long_body_is_refused_and_the_limit_itself_is_accepted(sms_sandbox):
    assert post_message(sms_sandbox, body="   ").status_code == 400
    assert post_message(sms_sandbox, body="x" * (MAX_BODY_CHARACTERS + 1)).status_code == 400
    assert post_message(sms_sandbox, body="x" * MAX_BODY_CHARACTERS).status_code == 201


def test_the_unavailable_magic_number_answers_503_with_retry_after(sms_sandbox):
    response = post_message(sms_sandbox, to="+15005550003")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_the_delivery_report_is_posted_to_the_status_callback_signed(sms_sandbox, report_receiver):
    message_id = post_message(sms_sandbox, callback=report_receiver.url).json()["id"]

    [attempt] = sms_sandbox.wait_for_report(message_id)

    assert attempt["status"] == 204
    [(body, headers)] = report_receiver.received
    report = json.loads(body)
    assert report == {"id": message_id, "reference": report["reference"], "status": "delivered", "error": None}
    timestamp, signature = (item.split("=", 1)[1] for item in headers["Sandbox-Signature"].split(","))
    expected = hmac.new(sms_sandbox.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)


def test_the_failing_magic_number_is_queued_then_reported_failed(sms_sandbox):
    message_id = post_message(sms_sandbox, to="+15005550002").json()["id"]

    [attempt] = sms_sandbox.wait_for_report(message_id)

    report = json.loads(attempt["body"])
    assert report["status"] == "failed"
    assert report["error"]


def test_a_report_the_callback_refuses_is_tried_again(sms_sandbox):
    receiver = ReportReceiver(status=500)
    try:
        message_id = post_message(sms_sandbox, callback=receiver.url).json()["id"]
        attempts = sms_sandbox.wait_for_report(message_id, attempts=2)
    finally:
        receiver.close()

    assert [attempt["status"] for attempt in attempts[:2]] == [500, 500]
    assert attempts[0]["body"] == attempts[1]["body"]  # the same report, signed anew
