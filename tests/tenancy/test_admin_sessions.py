"""Back-office sessions (seed 004: SESSION_LIFETIME=60, SESSION_SAME_SITE=strict): a session
ends after 60 minutes without a request, every request starts the hour again, and the session
and CSRF cookies are SameSite=Strict.

Sessions live in Redis (the cache backend) with the idle hour as their time to live; the tests
stand in for the passing of time by shortening that time to live, never by waiting."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.cache import KEY_PREFIX
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
IDLE_LIMIT = 60 * 60


def redis_key(session_key: str) -> tuple:
    key = cache.make_and_validate_key(KEY_PREFIX + session_key)
    return cache._cache.get_client(key, write=True), key


def signed_in_admin() -> tuple[Client, object]:
    user = member(OrganizationFactory(), Role.ORG_ADMIN)
    client = Client()
    client.get(reverse("admin:login"))
    response = client.post(reverse("admin:login"), {"username": user.email, "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    return client, response


def test_sign_in_sets_strict_cookies_for_an_idle_hour():
    client = Client()
    login_page = client.get(reverse("admin:login"))
    csrf = login_page.cookies["csrftoken"]

    _, response = signed_in_admin()

    session = response.cookies["sessionid"]
    assert session["samesite"] == "Strict"
    assert session["httponly"] is True
    assert session["max-age"] == IDLE_LIMIT
    assert csrf["samesite"] == "Strict"
    redis, key = redis_key(session.value)
    assert IDLE_LIMIT - 60 < redis.ttl(key) <= IDLE_LIMIT


def test_each_request_starts_the_idle_hour_again():
    client, response = signed_in_admin()
    redis, key = redis_key(response.cookies["sessionid"].value)
    redis.expire(key, 60)  # 59 minutes without a request

    page = client.get("/admin/")

    assert page.status_code == 200
    assert IDLE_LIMIT - 60 < redis.ttl(key) <= IDLE_LIMIT
    assert page.cookies["sessionid"]["max-age"] == IDLE_LIMIT


def test_a_session_idle_past_the_hour_is_signed_out():
    client, response = signed_in_admin()
    redis, key = redis_key(response.cookies["sessionid"].value)
    assert redis.ttl(key) > 0

    redis.delete(key)  # what Redis does when the time to live runs out
    page = client.get("/admin/")

    assert page.status_code == 302
    assert page.headers["Location"].startswith(reverse("admin:login"))
