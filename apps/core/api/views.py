"""Health, readiness, metrics and the bare view the api-overhead benchmark compares against.

/health and /ready answer anyone (load balancers, orchestrators). /health/detailed and
/metrics tell what runs and what is down: only for operations (`ops_only`).
"""

from __future__ import annotations

import functools
import logging
import secrets
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
from django_prometheus.exports import ExportToDjangoView
from kombu import Connection

from apps.core.errors import handler404
from apps.core.network import address_in, client_ip

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


def ops_only(view):
    """The view answers a request that carries `Authorization: Bearer <OPS_TOKEN>` or comes from
    OPS_ALLOWED_NETWORKS (by apps.core.network.client_ip); anyone else gets the 404 of a path
    that does not exist."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        scheme, _, presented = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        token_ok = (
            bool(settings.OPS_TOKEN)
            and scheme.lower() == "bearer"
            and secrets.compare_digest(presented.strip().encode(), settings.OPS_TOKEN.encode())
        )
        if token_ok or address_in(client_ip(request), settings.OPS_ALLOWED_NETWORKS):
            return view(request, *args, **kwargs)
        return handler404(request)

    return guarded


def health(request):
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


@ops_only
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


metrics = ops_only(ExportToDjangoView)  # django-prometheus's exposition


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
