"""Whom throttles and lockout count: the connection's peer, or behind TRUSTED_PROXIES the
address the proxy was called from. Against a real uvicorn server, as configured for
`make run`, because the server's own proxy-header handling is half of the question."""

import httpx
import pytest
from django.test import RequestFactory

from apps.core.network import client_ip

BAD_LOGIN = {"password": "not-the-password-at-all"}


def _login(server: str, email: str, forwarded_for: str) -> httpx.Response:
    return httpx.post(
        f"http://{server}/api/v1/auth/login",
        json={**BAD_LOGIN, "email": email},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=10,
    )


@pytest.fixture
def login_ip_limit_of_three(settings):
    # A day's window: the counters are aligned to the clock, and a minute's window could roll
    # over between two requests of a slow run and reset the count.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_ip": "3/day"}


def test_a_spoofed_forwarded_for_does_not_evade_the_ip_throttle(login_ip_limit_of_three, asgi_server):
    statuses = [_login(asgi_server, f"nobody{n}@example.test", f"203.0.113.{n}").status_code for n in range(4)]

    # Every request came from 127.0.0.1, whatever it claimed: the fourth is over the limit.
    assert statuses == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_counts(login_ip_limit_of_three, settings, asgi_server):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    first_client = [_login(asgi_server, f"a{n}@example.test", "203.0.113.7").status_code for n in range(4)]
    second_client = _login(asgi_server, "b@example.test", "198.51.100.9").status_code

    assert first_client == [401, 401, 401, 429]
    assert second_client == 401  # another client behind the same proxy has its own count


def test_a_spoofed_forwarded_for_does_not_evade_the_ip_lockout(settings, asgi_server):
    settings.LOGIN_LOCKOUT_THRESHOLD_PER_IP = 3

    answers = [_login(asgi_server, f"sprayed{n}@example.test", f"203.0.113.{n}") for n in range(4)]

    assert [answer.status_code for answer in answers[:3]] == [401, 401, 401]
    assert answers[3].json()["error_code"] == "AUTH_ACCOUNT_LOCKED"


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        ("10.0.0.5", "203.0.113.7", [], "10.0.0.5"),  # no trusted proxies: the header is ignored
        ("198.51.100.1", "203.0.113.7", ["10.0.0.0/8"], "198.51.100.1"),  # peer is no proxy of ours
        ("10.0.0.5", "203.0.113.7", ["10.0.0.0/8"], "203.0.113.7"),
        # The client wrote the left part itself; the first untrusted address from the right counts.
        ("10.0.0.5", "1.2.3.4, 203.0.113.7, 10.0.0.9", ["10.0.0.0/8"], "203.0.113.7"),
        ("10.0.0.5", "", ["10.0.0.0/8"], "10.0.0.5"),
        ("10.0.0.5", "not-an-address", ["10.0.0.0/8"], "10.0.0.5"),
        ("::1", "2001:db8::7", ["::1"], "2001:db8::7"),
    ],
)
def test_client_ip_reads_forwarded_for_only_from_trusted_proxies(settings, peer, forwarded_for, trusted, expected):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for)

    assert client_ip(request) == expected
