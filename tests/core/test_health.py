"""Health, readiness and metrics, with the real dependencies up and with one down."""

import uuid

import httpx
import pytest
from rest_framework_simplejwt.tokens import AccessToken

from tests.factories import OrganizationFactory, member
from tests.support import free_port, web_process

pytestmark = pytest.mark.django_db

DEAD_REDIS = "unix:///nonexistent/redis.sock?db=0"


def test_liveness_answers_without_touching_anything(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_detailed_health_reports_every_dependency_up(client):
    response = client.get("/health/detailed")

    assert response.status_code == 200, response.content
    assert {check["name"]: check["status"] for check in response.json()["checks"]} == {
        "database": "up",
        "redis": "up",
        "broker": "up",
        "storage": "up",
    }


def test_ready_checks_migrations_and_redis(client):
    response = client.get("/ready")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ready"


def test_detailed_health_is_503_when_redis_is_down(client, settings):
    settings.REDIS_APP_URL = DEAD_REDIS
    settings.CELERY_BROKER_URL = "redis+socket:///nonexistent/redis.sock"

    response = client.get("/health/detailed")

    assert response.status_code == 503
    statuses = {check["name"]: check["status"] for check in response.json()["checks"]}
    assert statuses["redis"] == "down"
    assert statuses["broker"] == "down"
    assert statuses["database"] == "up"


def test_api_answers_503_envelope_when_the_cache_is_down(api, settings):
    organization = OrganizationFactory()
    admin = member(organization)
    settings.CACHES = {"default": {"BACKEND": "apps.core.cache.ReusedClientRedisCache", "LOCATION": DEAD_REDIS}}

    response = api(admin).get(f"/api/v1/organizations/{organization.id}/features")

    assert response.status_code == 503
    assert response.json()["error_code"] == "EXTERNAL_SERVICE_UNAVAILABLE"
    assert response["Retry-After"]


def test_metrics_are_exposed_for_prometheus(client):
    client.get("/health")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_with_the_database_down_health_is_503_and_the_api_a_clean_5xx(db):
    """A real server whose database does not answer: no stack trace anywhere."""
    dead_database = f"postgresql://manifest_app@127.0.0.1:{free_port()}/nothing"
    with web_process(APP_DATABASE_URL=dead_database, DB_POOL="false") as base:
        health = httpx.get(f"{base}/health/detailed", timeout=10)
        token = AccessToken()
        token["sub"] = str(uuid.uuid4())  # valid signature: the server must reach the database to go on
        token["sid"] = str(uuid.uuid4())
        api = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        anonymous = httpx.get(f"{base}/api/v1/organizations", timeout=10)

    assert health.status_code == 503
    assert {c["name"]: c["status"] for c in health.json()["checks"]}["database"] == "down"
    for response in (api, anonymous):
        assert response.status_code == 503, response.text
        assert response.json()["error_code"] == "EXTERNAL_SERVICE_UNAVAILABLE"
        assert "Traceback" not in response.text
