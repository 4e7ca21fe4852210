"""Health, readiness and the bare view the api-overhead benchmark compares against."""

from __future__ import annotations

import logging
import time
import uuid

import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from kombu import Connection

from apps.core.errors import handler404

logger = logging.getLogger(__name__)


def _check(name: str, probe) -> dict:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # any failure of a dependency is what this endpoint reports
        logger.warning("health.check_failed", extra={"check": name, "error": exc.__class__.__name__})
        return {"name": name, "status": "down", "error": exc.__class__.__name__}
    return {"name": name, "status": "up", "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis():
    redis.Redis.from_url(settings.REDIS_APP_URL, socket_connect_timeout=2, socket_timeout=2).ping()


def _broker():
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


def _storage():
    name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    default_storage.delete(name)


def _migrations_applied():
    executor = MigrationExecutor(connections["default"])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise RuntimeError("unapplied migrations")


def health(request):
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def health_detailed(request):
    """Every dependency, each with its status; 503 when one is down."""
    checks = [
        _check("database", _database),
        _check("redis", _redis),
        _check("broker", _broker),
        _check("storage", _storage),
    ]
    healthy = all(check["status"] == "up" for check in checks)
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503)


def ready(request):
    """Readiness: database reachable with every migration applied, and Redis reachable."""
    checks = [_check("database", _database), _check("migrations", _migrations_applied), _check("redis", _redis)]
    healthy = all(check["status"] == "up" for check in checks)
    return JsonResponse(
        {"status": "ready" if healthy else "not_ready", "checks": checks}, status=200 if healthy else 503
    )


def bare(request):
    """A view that does nothing: the api-overhead benchmark's baseline."""
    return JsonResponse({"data": []})


@csrf_exempt  # it changes nothing; a POST to a wrong URL is a 404, not a CSRF failure page
def not_found(request):
    return handler404(request)
