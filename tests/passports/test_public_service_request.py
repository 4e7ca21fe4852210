"""Public service requests: anyone holding a device asks its owner for service, from the public
page's form (POST /p/<code>/service-request, CSRF-protected multipart) or its JSON twin
(POST /api/v1/scan/{code}/service-requests). The request lands in the owner's scope with its
photos and tells the owner (`passport.service_requested`); bad input changes nothing."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from apps.core.context import tenant_scope
from apps.core.models import OutboxEvent
from apps.passports import services
from apps.passports.models import PassportAttachment, PassportServiceRequest
from tests.passports.conftest import actor_of

pytestmark = pytest.mark.django_db

UNKNOWN_CODE = "ACM-2612-MO-DE-000042-37"


def photo(name: str = "leak.png", colour: str = "brown") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def written(organization) -> dict:
    """What the owner holds of service requests: the requests, their photos, the events."""
    with tenant_scope(organization.id):
        return {
            "requests": list(PassportServiceRequest.objects.order_by("created_at")),
            "photos": list(PassportAttachment.objects.filter(service_request__isnull=False)),
            "events": list(
                OutboxEvent.objects.filter(event_type="passport.service_requested").values_list(
                    "organization_id", "payload"
                )
            ),
        }


def stored_files(passport) -> list[str]:
    try:
        return default_storage.listdir(f"passports/{passport.id}")[1]
    except FileNotFoundError:
        return []


def nothing_written(organization) -> bool:
    return written(organization) == {"requests": [], "photos": [], "events": []}


VALID = {
    "contact_name": "Olga Smirnova",
    "contact_email": "olga@example.com",
    "description": "The motor hums and trips the breaker after ten minutes.",
}


# --- POST /api/v1/scan/{code}/service-requests ----------------------------------------------------


def test_a_public_request_with_photos_lands_with_the_owner(api, passport, manufacturer):
    response = api().post(
        f"/api/v1/scan/{passport.code}/service-requests",
        {**VALID, "contact_phone": "+49 421 555 0101", "photos": [photo("front.png"), photo("plate.png", "grey")]},
        format="multipart",
    )

    assert response.status_code == 201
    body = response.json()
    assert body == {"number": body["number"], "status": "open"}
    assert re.fullmatch(r"SRQ-\d{4}-\d{6}", body["number"])
    held = written(manufacturer)
    (request,) = held["requests"]
    assert (request.number, request.passport_id, request.source, request.requested_by_id) == (
        body["number"],
        passport.id,
        "public",
        None,
    )
    assert (request.contact_name, request.contact_email, request.contact_phone) == (
        "Olga Smirnova",
        "olga@example.com",
        "+49 421 555 0101",
    )
    assert sorted(p.filename for p in held["photos"]) == ["front.png", "plate.png"]
    assert {p.kind for p in held["photos"]} == {"photo"}
    assert all(p.file.storage.exists(p.file.name) for p in held["photos"])
    ((organization_id, payload),) = held["events"]
    assert organization_id == manufacturer.id
    assert payload["number"] == body["number"] and payload["source"] == "public"


def test_a_json_request_without_photos_is_accepted(api, passport, manufacturer):
    response = api().post(
        f"/api/v1/scan/{passport.code}/service-requests",
        {"contact_name": "Olga", "contact_phone": "+7 900 000 00 00", "description": "Noisy."},
        format="json",
    )

    assert response.status_code == 201
    assert len(written(manufacturer)["requests"]) == 1


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({**VALID, "description": ""}, "description"),
        ({"contact_name": "Olga", "description": "Noisy."}, "contact_email"),  # no way to reach them
        ({**VALID, "contact_email": "not-an-address"}, "contact_email"),
        ({**VALID, "contact_phone": "call me"}, "contact_phone"),
        ({**VALID, "contact_name": ""}, "contact_name"),
    ],
)
def test_invalid_input_is_400_and_writes_nothing(api, passport, manufacturer, fields, error_field):
    response = api().post(f"/api/v1/scan/{passport.code}/service-requests", fields, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] in {"VALIDATION_FIELD_REQUIRED", "VALIDATION_FIELD_INVALID"}
    assert error_field in response.json()["details"]
    assert nothing_written(manufacturer)


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_kept(api, passport, manufacturer):
    fake = SimpleUploadedFile("leak.png", b"MZ\x90\x00 this is not an image", content_type="image/png")

    response = api().post(
        f"/api/v1/scan/{passport.code}/service-requests", {**VALID, "photos": [photo(), fake]}, format="multipart"
    )

    assert response.status_code == 400
    (message,) = response.json()["details"]["photos"]
    assert message.startswith("leak.png: The file is not a PDF, JPEG or PNG")
    assert nothing_written(manufacturer)
    assert stored_files(passport) == []  # not even the good photo sent before it


def test_more_than_five_photos_are_refused(api, passport, manufacturer):
    response = api().post(
        f"/api/v1/scan/{passport.code}/service-requests",
        {**VALID, "photos": [photo(f"{n}.png") for n in range(6)]},
        format="multipart",
    )

    assert response.status_code == 400 and "photos" in response.json()["details"]
    assert nothing_written(manufacturer)


def test_an_unknown_or_malformed_code_is_404(api, passport, manufacturer):
    unknown = api().post(f"/api/v1/scan/{UNKNOWN_CODE}/service-requests", VALID, format="json")
    malformed = api().post("/api/v1/scan/not-a-code/service-requests", VALID, format="json")

    assert unknown.status_code == malformed.status_code == 404
    assert unknown.json()["error_code"] == malformed.json()["error_code"] == "NOT_FOUND"
    assert nothing_written(manufacturer)


@pytest.fixture
def decommissioned(passport, operator, manufacturer):
    with tenant_scope(manufacturer.id, user_id=operator.id):
        services.passport_status_change(
            actor=actor_of(operator, manufacturer), passport_id=passport.id, status="decommissioned"
        )
    return passport


def test_a_decommissioned_device_is_refused(api, decommissioned, manufacturer):
    response = api().post(f"/api/v1/scan/{decommissioned.code}/service-requests", VALID, format="json")

    assert response.status_code == 400
    assert response.json()["details"] == {"passport": ["decommissioned"]}
    assert nothing_written(manufacturer)


def test_over_the_rate_limit_requests_are_429_and_write_nothing(api, passport, manufacturer, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "passport_service_request_ip": "1/hour"}
    client = api()

    first = client.post(f"/api/v1/scan/{passport.code}/service-requests", VALID, format="json")
    second = client.post(f"/api/v1/scan/{passport.code}/service-requests", VALID, format="json")
    by_form = Client().post(f"/p/{passport.code}/service-request", VALID)

    assert first.status_code == 201
    assert second.status_code == 429 and second.json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert int(second["Retry-After"]) >= 1
    assert by_form.status_code == 429 and int(by_form["Retry-After"]) >= 1
    assert len(written(manufacturer)["requests"]) == 1


# --- The page's form -------------------------------------------------------------------------------


def _csrf_client(code: str) -> tuple[Client, str]:
    """A browser that opened the form's page: its CSRF cookie and the form's token."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/p/{code}/service-request").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return client, token


def test_the_form_sends_the_request_and_shows_its_number(passport, manufacturer):
    client, token = _csrf_client(passport.code)

    response = client.post(
        f"/p/{passport.code}/service-request",
        {**VALID, "csrfmiddlewaretoken": token, "photos": [photo("front.png")]},
    )

    assert response.status_code == 200
    (request,) = written(manufacturer)["requests"]
    page = response.content.decode()
    assert f'<p class="number" id="request-number">{request.number}</p>' in page
    assert "Servo motor 7.5 kW" in page and response["X-Robots-Tag"] == "noindex"
    assert len(written(manufacturer)["photos"]) == 1


def test_form_errors_are_shown_next_to_their_fields_and_nothing_is_written(passport, manufacturer):
    client, token = _csrf_client(passport.code)

    response = client.post(
        f"/p/{passport.code}/service-request",
        {"contact_name": "Olga", "contact_email": "not-an-address", "description": "", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert '<section class="card" id="service-request">' in page  # the form, shown again
    assert re.search(r'id="contact_email-error">Enter a valid e-mail address.<', page)
    assert re.search(r'id="description-error">This field is required.<', page)
    assert 'value="Olga"' in page  # what was typed stays
    assert nothing_written(manufacturer)


def test_a_null_character_in_the_form_is_an_error_not_a_server_error(passport, manufacturer):
    response = Client().post(f"/p/{passport.code}/service-request", {**VALID, "description": "Hums\x00 loudly"})

    assert response.status_code == 400
    assert 'id="description-error">Null characters are not allowed.<' in response.content.decode()
    assert nothing_written(manufacturer)


def test_a_photo_that_is_not_an_image_is_shown_under_photos(passport, manufacturer):
    client, token = _csrf_client(passport.code)
    fake = SimpleUploadedFile("leak.png", b"%PDF-1.4 not a photo", content_type="image/png")

    response = client.post(
        f"/p/{passport.code}/service-request", {**VALID, "csrfmiddlewaretoken": token, "photos": [fake]}
    )

    assert response.status_code == 400
    assert 'id="photos-error"' in response.content.decode()
    assert nothing_written(manufacturer)


def test_the_form_without_its_csrf_token_is_refused(passport, manufacturer):
    client, _ = _csrf_client(passport.code)

    response = client.post(f"/p/{passport.code}/service-request", VALID)

    assert response.status_code == 403
    assert nothing_written(manufacturer)


def test_a_decommissioned_device_shows_no_form_and_refuses_a_posted_one(decommissioned, manufacturer):
    page = Client().get(f"/p/{decommissioned.code}").content.decode()
    response = Client().post(f"/p/{decommissioned.code}/service-request", VALID)

    assert 'id="service-request"' not in page and 'id="decommissioned"' in page
    assert response.status_code == 400
    assert "decommissioned" in response.content.decode()
    assert nothing_written(manufacturer)


def test_the_form_of_an_unknown_code_is_404(passport, manufacturer):
    response = Client().post(f"/p/{UNKNOWN_CODE}/service-request", VALID)

    assert response.status_code == 404 and b"No device has this passport." in response.content
    assert nothing_written(manufacturer)
