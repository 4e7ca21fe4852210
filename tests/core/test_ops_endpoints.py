"""/metrics and /health/detailed are for operations only; /health and /ready stay open."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.django_db

OPS_TOKEN = "ops-token-for-tests-0123456789abcdef"
GUARDED = ["/metrics", "/health/detailed"]


@pytest.fixture
def no_network_allowed(settings):
    settings.OPS_ALLOWED_NETWORKS = []
    settings.OPS_TOKEN = OPS_TOKEN


@pytest.mark.parametrize("path", GUARDED)
def test_guarded_endpoints_are_404_without_the_token_or_an_allowed_network(client, no_network_allowed, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize("path", GUARDED)
def test_guarded_endpoints_refuse_a_wrong_token(client, no_network_allowed, path):
    assert client.get(path, HTTP_AUTHORIZATION="Bearer not-the-token").status_code == 404


@pytest.mark.parametrize("path", GUARDED)
def test_guarded_endpoints_answer_the_ops_token(client, no_network_allowed, path):
    assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {OPS_TOKEN}").status_code == 200


@pytest.mark.parametrize("path", GUARDED)
def test_guarded_endpoints_answer_an_allowed_network(client, settings, path):
    settings.OPS_ALLOWED_NETWORKS = ["10.1.0.0/16"]

    assert client.get(path, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(path, REMOTE_ADDR="10.2.0.1").status_code == 404


def test_a_forwarded_address_does_not_open_them_without_a_trusted_proxy(client, settings):
    settings.OPS_ALLOWED_NETWORKS = ["10.1.0.0/16"]

    response = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.1.2.3")

    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_liveness_and_readiness_stay_open(client, no_network_allowed, path):
    assert client.get(path).status_code == 200


def test_production_allows_no_network_by_default():
    code = "import django; django.setup(); from django.conf import settings; print(settings.OPS_ALLOWED_NETWORKS)"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "DEBUG": "false"}
    environment.update(SECRET_KEY="x" * 64)
    environment.pop("OPS_ALLOWED_NETWORKS", None)

    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
