"""Rate limits: fixed windows in the real Redis, shared by every web process.

Every test asks for `db`, so the conftest empties the Redis database first, and counts
against identities of its own (a new user, address or email). Test runs started at the
same time in one checkout share the embedded Redis, and they must not share counters.

Tests that spend a limit use hour-long windows, so a window edge falling between two of
their requests (which would restart the count) is practically impossible; the reset test
uses a two-second window and waits out the Retry-After it is given.
"""

import secrets
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.throttling import IpRateThrottle, RequestFieldRateThrottle, parse_rate
from tests.factories import OrganizationFactory, member
from tests.support import web_processes

DEAD_REDIS = "unix:///nonexistent/redis.sock?db=0"


# --- Tiny views, routed only for the tests marked with @pytest.mark.urls(__name__) ------


class LoginIpThrottle(IpRateThrottle):
    scope = "login_ip"


class LoginAccountThrottle(RequestFieldRateThrottle):
    scope = "login_account"
    field = "email"


class AnonymousView(APIView):
    """Admits anonymous callers and keeps the API-wide throttles."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


class SignInView(APIView):
    """Shaped like a sign-in endpoint: its own throttles replace the API-wide ones."""

    permission_classes = [AllowAny]
    throttle_classes = [LoginIpThrottle, LoginAccountThrottle]

    def post(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("anonymous", AnonymousView.as_view()),
    path("sign-in", SignInView.as_view()),
]


def fresh_ip() -> str:
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def fresh_loopback_address() -> str:
    return f"127.{secrets.randbelow(250) + 2}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def fresh_local_part() -> str:
    return f"ada{secrets.token_hex(4)}"


def limit(settings, **rates) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rates}


def assert_rate_limited(response) -> None:
    assert response.status_code == 429, response.content
    assert response.json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert int(response.headers["Retry-After"]) >= 1


# --- Parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit_", "window"),
    [
        ("600/min", 600, 60),
        ("20/minute", 20, 60),
        ("5/hour", 5, 3600),
        ("100/day", 100, 86400),
        ("7/s", 7, 1),
        ("7/sec", 7, 1),
        ("7/second", 7, 1),
        ("3/2s", 3, 2),
        ("10/15min", 10, 900),
    ],
)
def test_rates_parse_into_a_limit_and_a_window_in_seconds(text, limit_, window):
    rate = parse_rate(text)

    assert (rate.limit, rate.window) == (limit_, window)


@pytest.mark.parametrize("text", ["600", "600/fortnight", "ten/min", "3/0s", ""])
def test_a_malformed_rate_is_a_configuration_error(text):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(text)


# --- Through the API --------------------------------------------------------------------


def test_over_the_per_user_limit_me_answers_429_in_the_envelope_with_retry_after(db, api, settings):
    limit(settings, api_user="3/hour")
    client = api(member(OrganizationFactory()))
    for _ in range(3):
        assert client.get("/api/v1/me").status_code == 200

    response = client.get("/api/v1/me")

    assert_rate_limited(response)
    assert int(response["Retry-After"]) <= 3600
    assert set(response.json()) == {"error_code", "message", "details", "timestamp", "request_id"}


def test_the_per_user_limit_counts_each_user_apart(db, api, settings):
    limit(settings, api_user="2/hour")
    organization = OrganizationFactory()
    spender = api(member(organization))
    for _ in range(3):
        spender.get("/api/v1/me")

    response = api(member(organization)).get("/api/v1/me")

    assert response.status_code == 200, response.content


@pytest.mark.urls(__name__)
def test_anonymous_requests_over_the_per_ip_limit_answer_429(db, client, settings):
    limit(settings, api_ip="2/hour")
    address = fresh_ip()
    for _ in range(2):
        assert client.get("/anonymous", REMOTE_ADDR=address).status_code == 200

    spent = client.get("/anonymous", REMOTE_ADDR=address)
    other_address = client.get("/anonymous", REMOTE_ADDR=fresh_ip())

    assert_rate_limited(spent)
    assert other_address.status_code == 200


def test_the_limit_resets_after_the_window(db, api, settings):
    limit(settings, api_user="2/2s")
    client = api(member(OrganizationFactory()))
    # Spend until refused: the first few may straddle a window edge and pass.
    for _ in range(10):
        refused = client.get("/api/v1/me")
        if refused.status_code == 429:
            break
    assert_rate_limited(refused)

    time.sleep(int(refused.headers["Retry-After"]))
    response = client.get("/api/v1/me")

    assert response.status_code == 200, response.content


@pytest.mark.urls(__name__)
def test_spellings_of_one_email_share_the_request_field_counter(db, client, settings):
    limit(settings, login_account="2/hour")
    local_part = fresh_local_part()
    client.post("/sign-in", {"email": f"{local_part.title()}@Example.com"}, content_type="application/json")
    client.post("/sign-in", {"email": f"  {local_part}@example.COM "}, content_type="application/json")

    same_account = client.post(
        "/sign-in", {"email": f"{local_part.upper()}@EXAMPLE.COM"}, content_type="application/json"
    )
    other_account = client.post(
        "/sign-in", {"email": f"{fresh_local_part()}@example.com"}, content_type="application/json"
    )

    assert_rate_limited(same_account)
    assert other_account.status_code == 200, other_account.content


@pytest.mark.urls(__name__)
def test_the_request_field_reaches_redis_only_hashed(db, client, settings):
    local_part = fresh_local_part()
    client.post("/sign-in", {"email": f"{local_part}@example.com"}, content_type="application/json")

    keys = redis.Redis.from_url(settings.REDIS_APP_URL).keys("*throttle:login_account:*")

    assert keys
    assert not [key for key in keys if local_part.encode() in key or b"example" in key]


@pytest.mark.urls(__name__)
def test_a_scoped_ip_throttle_counts_every_request_from_the_address(db, client, settings):
    limit(settings, login_ip="2/hour")
    address = fresh_ip()
    for _ in range(2):
        email = f"{fresh_local_part()}@example.com"
        client.post("/sign-in", {"email": email}, content_type="application/json", REMOTE_ADDR=address)

    email = f"{fresh_local_part()}@example.com"
    response = client.post("/sign-in", {"email": email}, content_type="application/json", REMOTE_ADDR=address)

    assert_rate_limited(response)


@pytest.mark.urls(__name__)
def test_with_redis_down_requests_pass_unlimited_and_a_warning_is_logged(db, client, settings, caplog):
    limit(settings, api_ip="1/hour")
    settings.CACHES = {"default": {"BACKEND": "apps.core.cache.ReusedClientRedisCache", "LOCATION": DEAD_REDIS}}

    responses = [client.get("/anonymous") for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert "throttle.backend_unavailable" in [record.getMessage() for record in caplog.records]


# --- Two web processes on one Redis ---------------------------------------------------------


def test_a_limit_spent_on_one_web_process_is_enforced_by_another(db, django_db_setup):
    # Anonymous calls to the schema (an API view open to anyone) count against api_ip, from
    # a loopback address of this test's own (all of 127.0.0.0/8 reaches the servers).
    # The servers read this test run's database and, through the inherited REDIS_DB, its Redis.
    database_url = urlunsplit(urlsplit(django_settings.APP_DATABASE_URL)._replace(path=f"/{django_db_setup}"))
    with web_processes(2, APP_DATABASE_URL=database_url, DB_POOL="false", RATE_LIMIT_API_IP="2/hour") as (
        first,
        second,
    ):
        transport = httpx.HTTPTransport(local_address=fresh_loopback_address())
        with httpx.Client(transport=transport, timeout=30) as caller:
            spent = [caller.get(f"{first}/api/schema/") for _ in range(2)]
            response = caller.get(f"{second}/api/schema/")

    assert [r.status_code for r in spent] == [200, 200], spent[-1].text
    assert_rate_limited(response)
