"""Fixtures of the notifications tests."""

from __future__ import annotations

import base64
import time
from types import SimpleNamespace

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sandboxes import push_service, sms_gateway
from sandboxes.mail_catcher import start_catcher
from tests.notifications.support import make_deal

# === Notification sandboxes (docs/notification-providers.md) ================================
# One real mail catcher, SMS gateway and push service per test session (per xdist worker), on
# free ports. Tests share them and keep apart by their recipients (unique addresses, numbers,
# subscriptions). `notification_sandboxes` points EMAIL_*, SMS_GATEWAYS and WEB_PUSH at them
# for one test. Other fixtures go below this block.

SMS_SANDBOX_API_KEY = "test-sms-sandbox-api-key"
SMS_SANDBOX_SECRET = "test-sms-sandbox-report-secret"


def _wait(read, enough, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if enough(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout} s: {found}")
        time.sleep(0.02)


class MailCatcherSandbox:
    """The running mail catcher as a test sees it, through its JSON endpoints."""

    def __init__(self, *, smtp_host: str, smtp_port: int, http_url: str):
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.http_url = http_url
        self._http = httpx.Client(base_url=http_url, timeout=5)

    def email_settings(self, **overrides) -> dict:
        """EMAIL_* settings that send through Django's SMTP backend to this catcher."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.smtp_host,
            "EMAIL_PORT": self.smtp_port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 5,
            **overrides,
        }

    def messages(self, to: str | None = None) -> list[dict]:
        """Messages caught so far, oldest first: id, from, to, subject, date, text, html, headers, raw."""
        params = {} if to is None else {"to": to}
        response = self._http.get("/api/messages", params=params)
        response.raise_for_status()
        return response.json()["messages"]

    def wait_for(self, to: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        return _wait(lambda: self.messages(to), lambda found: len(found) >= count, timeout, f"{count} mails to {to}")

    def page(self, path: str = "/") -> httpx.Response:
        return self._http.get(path)

    def close(self) -> None:
        self._http.close()


class SmsSandbox:
    """The running SMS gateway as a test sees it, through its inspection endpoint."""

    def __init__(self, url: str):
        self.url = url
        self.api_key = SMS_SANDBOX_API_KEY
        self.secret = SMS_SANDBOX_SECRET
        self._http = httpx.Client(base_url=url, timeout=5)

    def gateway_settings(self, **options) -> dict:
        """SMS_GATEWAYS with "sandbox" pointed at this server, `options` on top."""
        return {
            "sandbox": {
                "BACKEND": "apps.notifications.providers.sms.sandbox.SandboxSmsGateway",
                "URL": self.url,
                "API_KEY": self.api_key,
                "SECRET": self.secret,
                "STATUS_CALLBACK_URL": "",  # reports recorded and signed, sent nowhere
                "TIMEOUT": {"CONNECT": 2, "READ": 5},
                "TOLERANCE_SECONDS": 300,
                **options,
            }
        }

    def messages(self, to: str | None = None) -> list[dict]:
        """Every message received (to, body, reference, status, error) with its report attempts.

        A report attempt: attempt, url, status (None: not sent), error, body, headers.
        """
        params = {} if to is None else {"to": to}
        response = self._http.get("/_sandbox/messages", params=params)
        response.raise_for_status()
        return response.json()["messages"]

    def wait_for_report(self, provider_id: str, attempts: int = 1, timeout: float = 5.0) -> list[dict]:
        """The report attempts for message `provider_id`, once there are at least `attempts`."""

        def reports() -> list[dict]:
            return next((message["reports"] for message in self.messages() if message["id"] == provider_id), [])

        return _wait(reports, lambda found: len(found) >= attempts, timeout, f"{attempts} reports of {provider_id}")

    def close(self) -> None:
        self._http.close()


def _vapid_key_pair() -> tuple[str, str]:
    """A fresh VAPID pair: base64url of the raw private scalar, and of the uncompressed public point."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return (
        base64.urlsafe_b64encode(private).rstrip(b"=").decode(),
        base64.urlsafe_b64encode(public).rstrip(b"=").decode(),
    )


class PushSandbox:
    """The running push service as a test sees it, and a VAPID key pair for the session."""

    def __init__(self, url: str):
        self.url = url
        self.vapid_private_key, self.vapid_public_key = _vapid_key_pair()
        self._http = httpx.Client(base_url=url, timeout=5)

    def web_push_settings(self, **options) -> dict:
        """WEB_PUSH with the session's VAPID pair, allowed to push to this (http) sandbox."""
        return {
            "VAPID_PRIVATE_KEY": self.vapid_private_key,
            "VAPID_PUBLIC_KEY": self.vapid_public_key,
            "SUBJECT": "mailto:push-tests@manifest.test",
            "TTL": 3600,
            "TIMEOUT": {"CONNECT": 2, "READ": 5},
            "ALLOW_HTTP_ENDPOINTS": True,
            **options,
        }

    def subscribe(self, *, application_server_key: str | None = None, answer_status: int | None = None) -> dict:
        """A new subscription, as a browser's PushManager.subscribe() would give it: id, endpoint, keys.

        application_server_key: pushes signed by another VAPID key are refused (403);
        answer_status: every push to it answers that status (429, 500, 400...).
        """
        request = {"application_server_key": application_server_key, "answer_status": answer_status}
        response = self._http.post("/_sandbox/subscriptions", json=request)
        response.raise_for_status()
        return response.json()

    def unsubscribe(self, subscription_id: str) -> None:
        """Later pushes to the subscription answer 410 Gone."""
        self._http.delete(f"/_sandbox/subscriptions/{subscription_id}").raise_for_status()

    def messages(self, subscription_id: str) -> list[dict]:
        """The decrypted messages pushed to the subscription: payload (text), json, ttl, urgency."""
        response = self._http.get("/_sandbox/messages", params={"subscription": subscription_id})
        response.raise_for_status()
        return response.json()["messages"]

    def close(self) -> None:
        self._http.close()


@pytest.fixture(scope="session")
def mail_catcher():
    """The session's mail catcher (see MailCatcherSandbox for its helpers)."""
    catcher = start_catcher()
    sandbox = MailCatcherSandbox(smtp_host=catcher.smtp_host, smtp_port=catcher.smtp_port, http_url=catcher.http_url)
    yield sandbox
    sandbox.close()
    catcher.stop()


@pytest.fixture(scope="session")
def sms_sandbox():
    """The session's SMS gateway (see SmsSandbox for its helpers)."""
    server = sms_gateway.start_server(api_key=SMS_SANDBOX_API_KEY, secret=SMS_SANDBOX_SECRET)
    sandbox = SmsSandbox(server.url)
    yield sandbox
    sandbox.close()
    server.stop()


@pytest.fixture(scope="session")
def push_sandbox():
    """The session's push service (see PushSandbox for its helpers)."""
    server = push_service.start_server()
    sandbox = PushSandbox(server.url)
    yield sandbox
    sandbox.close()
    server.stop()


@pytest.fixture
def notification_sandboxes(settings, mail_catcher, sms_sandbox, push_sandbox):
    """EMAIL_*, SMS_GATEWAYS (SMS_GATEWAY "sandbox") and WEB_PUSH pointed at the session's sandboxes."""
    for name, value in mail_catcher.email_settings().items():
        setattr(settings, name, value)
    settings.SMS_GATEWAYS = sms_sandbox.gateway_settings()
    settings.SMS_GATEWAY = "sandbox"
    settings.WEB_PUSH = push_sandbox.web_push_settings()
    return SimpleNamespace(mail=mail_catcher, sms=sms_sandbox, push=push_sandbox)


# === End of the notification sandboxes block =================================================


@pytest.fixture
def deal():
    """A shipper (admin, shipper, warehouse clerk) and a carrier (carrier): tests.notifications.support."""
    return make_deal()
