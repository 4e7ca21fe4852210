"""The auth-overhead benchmark's "without authentication" side: a pre-resolved user.

Inert unless settings.BENCHMARK_PRERESOLVED_USER is on, which only
config.settings.bench does (base, dev, test and production never set it). With it on:

- PreResolvedUserMiddleware, placed just before TenantMiddleware, reads
  `X-Bench-User: <user id>` and sets `request.user` to that user, loaded from the
  database the first time the id is seen and kept in this process afterwards. No
  token, no signature check, no revocation lookup in Redis, no user query per request:
  TenantMiddleware then finds no bearer token, keeps that user, and does the rest as
  for any request (memberships, tenant scope, transaction).
- PreResolvedUserAuthentication, after the project's RequestUserAuthentication in
  DRF's list, hands that user to DRF: the project's class authenticates only
  requests whose bearer token TenantMiddleware checked (`auth_method == "jwt"`).
  A request with a bearer token is answered by the project's class first and never
  reaches this one.

With the setting off the middleware removes itself (MiddlewareNotUsed) and the
authentication class answers None, even if something lists them: the header is
ignored. tests/core/test_bench_preresolved.py checks both.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import MiddlewareNotUsed
from rest_framework.authentication import BaseAuthentication

HEADER = "HTTP_X_BENCH_USER"
PRERESOLVED_ATTRIBUTE = "bench_preresolved_user"


def enabled() -> bool:
    return getattr(settings, "BENCHMARK_PRERESOLVED_USER", False) is True


class PreResolvedUserMiddleware:
    def __init__(self, get_response):
        if not enabled():
            raise MiddlewareNotUsed("BENCHMARK_PRERESOLVED_USER is off")
        self.get_response = get_response
        self.users: dict[str, object] = {}

    def _user(self, raw: str):
        user = self.users.get(raw)
        if user is None:
            user = get_user_model().objects.filter(id=uuid.UUID(raw), is_active=True).first()
            if user is None:
                raise LookupError(f"no active user {raw}")
            self.users[raw] = user
        return user

    def __call__(self, request):
        raw = request.META.get(HEADER)
        # Never together with a bearer token: that request is the other side of the comparison.
        if raw and "HTTP_AUTHORIZATION" not in request.META and enabled():
            request.user = self._user(raw.strip())
            setattr(request, PRERESOLVED_ATTRIBUTE, True)
        return self.get_response(request)


class PreResolvedUserAuthentication(BaseAuthentication):
    def authenticate(self, request):
        django_request = request._request
        if enabled() and getattr(django_request, PRERESOLVED_ATTRIBUTE, False):
            return django_request.user, None
        return None
