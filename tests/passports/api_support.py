"""Helpers of the passports API tests: steps recorded through the service (as a set-up), what the
API shows of a device, and files to upload."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from apps.core.context import tenant_scope
from apps.passports import services
from apps.passports.models import PassportEvent
from tests.passports.conftest import actor_of

URL = "/api/v1/passports"


def record(user, organization, passport, kind: str, **fields) -> PassportEvent:
    """A lifecycle step recorded by `user` through the service (a test's set-up)."""
    with tenant_scope(organization.id, user_id=user.id):
        return services.passport_event_record(
            actor=actor_of(user, organization),
            passport_id=passport.id,
            data=services.LifecycleInput(kind=kind, **fields),
        )


def stored_steps(organization, passport) -> list[str]:
    """The kinds of the device's steps as the owner's scope reads them, oldest first."""
    with tenant_scope(organization.id):
        return list(
            PassportEvent.objects.filter(passport_id=passport.id)
            .order_by("occurred_at", "at", "id")
            .values_list("kind", flat=True)
        )


def all_events(client, passport_id) -> list[dict]:
    response = client.get(f"{URL}/{passport_id}/events?limit=200")
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def query_count(client, url: str) -> tuple[int, dict]:
    """How many queries one GET of `url` runs, and its body."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(queries.captured_queries), response.json()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "brown").save(buffer, format="PNG")
    return buffer.getvalue()


def pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, format="PDF")
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
