"""The auth-overhead benchmark's pre-resolved user (bench/preresolved.py) is inert outside the
benchmark settings: `X-Bench-User` authenticates nobody unless BENCHMARK_PRERESOLVED_USER is on."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import MiddlewareNotUsed
from rest_framework.test import APIClient
from rest_framework.views import APIView

from bench.preresolved import PreResolvedUserAuthentication, PreResolvedUserMiddleware
from tests.factories import OrganizationFactory, member

BENCH_MIDDLEWARE = "bench.preresolved.PreResolvedUserMiddleware"
BENCH_AUTHENTICATION = "bench.preresolved.PreResolvedUserAuthentication"


def _install_bench_path(settings, monkeypatch, *, enabled: bool) -> None:
    """What config.settings.bench does, with the switch on or off."""
    tenant = settings.MIDDLEWARE.index("apps.tenancy.middleware.TenantMiddleware")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:tenant], BENCH_MIDDLEWARE, *settings.MIDDLEWARE[tenant:]]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_AUTHENTICATION_CLASSES": [
            *settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],
            BENCH_AUTHENTICATION,
        ],
    }
    # DRF's views read their authentication classes when they are defined: patch them too.
    monkeypatch.setattr(
        APIView, "authentication_classes", [*APIView.authentication_classes, PreResolvedUserAuthentication]
    )
    settings.BENCHMARK_PRERESOLVED_USER = enabled


@pytest.fixture
def admin_and_members_path():
    organization = OrganizationFactory()
    admin = member(organization)
    return admin, f"/api/v1/organizations/{organization.id}/members"


def test_the_test_settings_neither_install_nor_enable_it(settings):
    assert not getattr(settings, "BENCHMARK_PRERESOLVED_USER", False)
    assert BENCH_MIDDLEWARE not in settings.MIDDLEWARE
    assert BENCH_AUTHENTICATION not in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]


def test_production_settings_neither_install_nor_enable_it():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "assert not getattr(s, 'BENCHMARK_PRERESOLVED_USER', False); "
        "assert not getattr(s, 'BENCHMARK_BARE_VIEW', False); "
        f"assert {BENCH_MIDDLEWARE!r} not in s.MIDDLEWARE; "
        f"assert {BENCH_AUTHENTICATION!r} not in s.REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES']"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 64,
        "BENCHMARK_PRERESOLVED_USER": "1",  # no settings module reads it from the environment
    }
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr


def test_the_middleware_removes_itself_when_the_setting_is_off(settings):
    settings.BENCHMARK_PRERESOLVED_USER = False

    with pytest.raises(MiddlewareNotUsed):
        PreResolvedUserMiddleware(lambda request: None)


@pytest.mark.django_db
def test_the_header_authenticates_nobody_in_normal_settings(admin_and_members_path):
    admin, path = admin_and_members_path

    response = APIClient().get(path, HTTP_X_BENCH_USER=str(admin.id))

    assert response.status_code == 401


@pytest.mark.django_db
def test_the_header_authenticates_nobody_when_installed_but_switched_off(settings, monkeypatch, admin_and_members_path):
    _install_bench_path(settings, monkeypatch, enabled=False)
    admin, path = admin_and_members_path

    response = APIClient().get(path, HTTP_X_BENCH_USER=str(admin.id))

    assert response.status_code == 401


@pytest.mark.django_db
def test_switched_on_the_header_gets_the_same_page_as_the_token(settings, monkeypatch, api, admin_and_members_path):
    _install_bench_path(settings, monkeypatch, enabled=True)
    admin, path = admin_and_members_path

    with_token = api(admin).get(path)
    with_header = APIClient().get(path, HTTP_X_BENCH_USER=str(admin.id))

    assert with_token.status_code == with_header.status_code == 200, with_header.content
    assert with_header.json() == with_token.json()


@pytest.mark.django_db
def test_switched_on_a_bearer_token_still_decides(settings, monkeypatch, admin_and_members_path):
    _install_bench_path(settings, monkeypatch, enabled=True)
    admin, path = admin_and_members_path

    response = APIClient().get(path, HTTP_X_BENCH_USER=str(admin.id), HTTP_AUTHORIZATION="Bearer forged")

    assert response.status_code == 401
