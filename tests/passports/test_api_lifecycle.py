"""A device's lifecycle through the API: moving its status and recording steps as each role may,
the moves the table refuses (422, nothing written), bad input (400, nothing written), the
append-only history as a cursor stream, and the files of the device and its steps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.uploads import Upload
from apps.passports import services
from apps.passports.models import PassportAttachment
from tests.passports.api_support import (
    URL,
    all_events,
    pdf,
    png,
    query_count,
    record,
    stored_steps,
    upload,
)
from tests.passports.conftest import actor_of, register

pytestmark = pytest.mark.django_db


def _status(client, passport, status: str, **fields):
    return client.patch(f"{URL}/{passport.id}/status", {"status": status, **fields}, format="json")


def test_a_qc_inspector_passes_qc_and_the_detail_shows_the_step_and_who_recorded_it(
    api, qc_inspector, passport, manufacturer
):
    response = _status(api(qc_inspector), passport, "qc_passed", note="All torques in range.")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "qc_passed"
    step = body["last_events"][-1]
    assert (step["kind"], step["from_status"], step["to_status"], step["note"]) == (
        "qc_passed",
        "manufactured",
        "qc_passed",
        "All torques in range.",
    )
    assert step["recorded_by"] == {"id": str(qc_inspector.id), "name": qc_inspector.full_name}
    assert step["recorded_by_organization_name"] == manufacturer.name
    assert stored_steps(manufacturer, passport) == ["manufactured", "qc_passed"]


def test_an_engineer_installs_the_device_and_its_place_moves_with_it(
    api, qc_inspector, engineer, passport, manufacturer
):
    record(qc_inspector, manufacturer, passport, "qc_passed")

    response = _status(
        api(engineer), passport, "installed", location="Line 3, Riga", latitude="56.946", longitude="24.105"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["current_location"], body["latitude"], body["longitude"]) == (
        "installed",
        "Line 3, Riga",
        "56.946000",
        "24.105000",
    )
    assert body["last_events"][-1]["location"] == "Line 3, Riga"


def test_a_qc_inspector_cannot_install_and_nothing_is_written(api, qc_inspector, passport, manufacturer):
    record(qc_inspector, manufacturer, passport, "qc_passed")

    response = _status(api(qc_inspector), passport, "installed", location="Line 3")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert stored_steps(manufacturer, passport) == ["manufactured", "qc_passed"]


def test_an_engineer_cannot_record_qc_and_nothing_is_written(api, engineer, passport, manufacturer):
    response = api(engineer).post(f"{URL}/{passport.id}/events", {"kind": "qc_passed"}, format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert stored_steps(manufacturer, passport) == ["manufactured"]


def test_a_customer_reads_their_devices_history_but_records_no_step(api, operator, customer, manufacturer):
    kept = register(operator, manufacturer, serial_number="K-1", customer_id=customer.id)
    client = api(customer)

    assert [step["kind"] for step in all_events(client, kept.id)] == ["manufactured"]
    response = client.post(f"{URL}/{kept.id}/events", {"kind": "decommissioned"}, format="json")
    assert response.status_code == 403
    assert _status(client, kept, "decommissioned").status_code == 403
    assert stored_steps(manufacturer, kept) == ["manufactured"]


def test_a_move_the_lifecycle_does_not_allow_is_422_and_writes_nothing(api, engineer, passport, manufacturer):
    client = api(engineer)
    before = client.get(f"{URL}/{passport.id}").json()

    response = _status(client, passport, "installed", location="Line 3")

    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "INVALID_STATE_TRANSITION"
    assert body["details"] == {"status": ["Steps allowed from manufactured: decommissioned, qc_failed, qc_passed."]}
    assert client.get(f"{URL}/{passport.id}").json() == before
    assert stored_steps(manufacturer, passport) == ["manufactured"]


def test_a_decommissioned_device_records_no_more_steps(api, operator, qc_inspector, passport, manufacturer):
    assert _status(api(operator), passport, "decommissioned", note="Scrapped").status_code == 200

    response = api(qc_inspector).post(f"{URL}/{passport.id}/events", {"kind": "qc_passed"}, format="json")

    assert response.status_code == 422 and response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert stored_steps(manufacturer, passport) == ["manufactured", "decommissioned"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "transferred"}, "kind"),
        ({"kind": "manufactured"}, "kind"),
        ({"kind": "flying"}, "kind"),
        ({}, "kind"),
        ({"kind": "qc_passed", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"kind": "qc_passed", "latitude": "56.9"}, "longitude"),
        ({"kind": "qc_passed", "note": 42}, "note"),
        ({"kind": "qc_passed", "details": ["not", "an", "object"]}, "details"),
        ({"kind": "qc_passed", "order_id": "6f1c1a57-4c2e-4a53-9d7c-8a1f1f1f1f1f"}, "order_id"),
        ({"kind": "qc_passed", "service_order_id": "6f1c1a57-4c2e-4a53-9d7c-8a1f1f1f1f1f"}, "service_order_id"),
        ({"kind": "qc_passed", "is_public": "perhaps"}, "is_public"),
    ],
)
def test_an_invalid_step_is_a_400_naming_the_field_and_nothing_is_written(
    api, operator, passport, manufacturer, payload, field
):
    response = api(operator).post(f"{URL}/{passport.id}/events", payload, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["error_code"] in {"VALIDATION_FIELD_INVALID", "VALIDATION_FIELD_REQUIRED"}
    assert field in response.json()["details"]
    assert stored_steps(manufacturer, passport) == ["manufactured"]


@pytest.mark.parametrize("payload", [{"status": "manufactured"}, {"status": "lost"}, {}])
def test_an_invalid_status_change_is_a_400_and_nothing_is_written(api, operator, passport, manufacturer, payload):
    response = api(operator).patch(f"{URL}/{passport.id}/status", payload, format="json")

    assert response.status_code == 400
    assert stored_steps(manufacturer, passport) == ["manufactured"]


def test_a_step_dated_before_the_last_one_is_refused(api, qc_inspector, passport, manufacturer):
    earlier = (timezone.now() - timedelta(days=30)).isoformat()

    response = api(qc_inspector).post(
        f"{URL}/{passport.id}/events", {"kind": "qc_passed", "occurred_at": earlier}, format="json"
    )

    assert response.status_code == 400
    assert "occurred_at" in response.json()["details"]
    assert stored_steps(manufacturer, passport) == ["manufactured"]


def test_a_recorded_step_is_answered_with_its_fields(api, operator, qc_inspector, passport, manufacturer):
    record(qc_inspector, manufacturer, passport, "qc_passed")

    response = api(operator).post(
        f"{URL}/{passport.id}/events",
        {
            "kind": "received",
            "location": "Warehouse Hamburg",
            "latitude": "53.55",
            "longitude": "9.99",
            "note": "Pallet 7",
            "is_public": False,
            "details": {"dock": 4},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="receive-1",
    )

    assert response.status_code == 201, response.json()
    step = response.json()
    assert (step["kind"], step["from_status"], step["to_status"], step["is_public"]) == (
        "received",
        "qc_passed",
        "received",
        False,
    )
    assert (step["location"], step["latitude"], step["details"], step["attachments"]) == (
        "Warehouse Hamburg",
        "53.550000",
        {"dock": 4},
        [],
    )
    assert step["recorded_by"]["id"] == str(operator.id)


def test_the_history_is_a_cursor_stream_oldest_first(api, operator, qc_inspector, passport, manufacturer):
    for kind in ("qc_failed", "qc_passed", "shipped", "received"):
        record(qc_inspector if kind.startswith("qc") else operator, manufacturer, passport, kind)
    client = api(operator)

    pages, url = [], f"{URL}/{passport.id}/events?limit=2"
    while url:
        body = client.get(url).json()
        pages.append([step["kind"] for step in body["data"]])
        url = body["meta"]["next"]

    assert pages == [["manufactured", "qc_failed"], ["qc_passed", "shipped"], ["received"]]


def test_the_history_runs_the_same_queries_for_3_or_15_steps_with_files(
    api, operator, qc_inspector, engineer, passport, manufacturer
):
    record(qc_inspector, manufacturer, passport, "qc_passed")
    installed = record(engineer, manufacturer, passport, "installed", location="Line 3")
    with tenant_scope(manufacturer.id, user_id=engineer.id):
        services.passport_attachment_add(
            actor=actor_of(engineer, manufacturer),
            passport_id=passport.id,
            upload=Upload("photo.png", png(), "image/png"),
            kind="photo",
            event_id=installed.id,
        )
    client = api(operator)
    url = f"{URL}/{passport.id}/events?limit=50"
    client.get(url)  # warms the per-organization feature cache
    few, body = query_count(client, url)
    assert len(body["data"]) == 3
    for _ in range(12):
        step = record(engineer, manufacturer, passport, "serviced")
        with tenant_scope(manufacturer.id, user_id=engineer.id):
            services.passport_attachment_add(
                actor=actor_of(engineer, manufacturer),
                passport_id=passport.id,
                upload=Upload("report.pdf", pdf(), "application/pdf"),
                kind="document",
                event_id=step.id,
            )

    many, body = query_count(client, url)

    assert len(body["data"]) == 15 and all(len(step["attachments"]) == 1 for step in body["data"][2:])
    assert many == few


# --- Files ---------------------------------------------------------------------------------------


def test_an_engineer_attaches_a_photo_to_their_step_and_anyone_with_the_link_downloads_it(
    api, qc_inspector, engineer, passport, manufacturer
):
    record(qc_inspector, manufacturer, passport, "qc_passed")
    installed = record(engineer, manufacturer, passport, "installed", location="Line 3")
    photo = png()

    response = api(engineer).post(
        f"{URL}/{passport.id}/attachments",
        {"file": upload("installed.png", photo, "image/png"), "kind": "photo", "event_id": str(installed.id)},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    attachment = response.json()
    assert (attachment["kind"], attachment["event_id"], attachment["content_type"], attachment["size"]) == (
        "photo",
        str(installed.id),
        "image/png",
        len(photo),
    )
    listed = all_events(api(engineer), passport.id)[-1]["attachments"]
    assert [row["id"] for row in listed] == [attachment["id"]]
    download = api().get(attachment["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == photo


def test_an_operator_attaches_a_document_to_the_device_and_the_detail_lists_it(api, operator, passport):
    response = api(operator).post(
        f"{URL}/{passport.id}/attachments",
        {"file": upload("manual.pdf", pdf(), "application/pdf"), "kind": "document"},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    documents = api(operator).get(f"{URL}/{passport.id}").json()["documents"]
    assert [(row["id"], row["filename"], row["event_id"]) for row in documents] == [
        (response.json()["id"], "manual.pdf", None)
    ]


def test_a_qc_inspector_cannot_attach_a_document_to_the_device(api, qc_inspector, passport, manufacturer):
    response = api(qc_inspector).post(
        f"{URL}/{passport.id}/attachments",
        {"file": upload("manual.pdf", pdf(), "application/pdf"), "kind": "document"},
        format="multipart",
    )

    assert response.status_code == 403
    with tenant_scope(manufacturer.id):
        assert not PassportAttachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "content_type", "kind"),
    [
        ("photo.png", b"PK\x03\x04" + b"\x00" * 40, "image/png", "photo"),
        ("manual.pdf", b"", "application/pdf", "document"),
        ("scan.pdf", b"%PDF-1.4\n", "application/pdf", "photo"),
        ("manual.pdf", b"%PDF-1.4\n", "application/pdf", "poster"),
    ],
)
def test_a_file_that_fails_its_checks_is_a_400_and_nothing_is_stored(
    api, operator, passport, manufacturer, name, data, content_type, kind
):
    response = api(operator).post(
        f"{URL}/{passport.id}/attachments", {"file": upload(name, data, content_type), "kind": kind}, format="multipart"
    )

    assert response.status_code == 400
    with tenant_scope(manufacturer.id):
        assert not PassportAttachment.objects.exists()


def test_a_file_for_a_step_of_another_device_is_refused(api, operator, passport, manufacturer):
    other = register(operator, manufacturer, serial_number="OTHER-1")
    [their_step] = [step["id"] for step in all_events(api(operator), other.id)]

    response = api(operator).post(
        f"{URL}/{passport.id}/attachments",
        {"file": upload("manual.pdf", pdf(), "application/pdf"), "kind": "document", "event_id": their_step},
        format="multipart",
    )

    assert response.status_code == 400 and "event_id" in response.json()["details"]


def test_a_forged_or_expired_download_link_is_a_404(api, operator, passport, settings):
    created = (
        api(operator)
        .post(
            f"{URL}/{passport.id}/attachments",
            {"file": upload("manual.pdf", pdf(), "application/pdf"), "kind": "document"},
            format="multipart",
        )
        .json()
    )
    settings.PASSPORTS = {**settings.PASSPORTS, "DOWNLOAD_URL_MAX_AGE": -1}

    assert api().get(created["download_url"]).status_code == 404
    assert api().get(f"{URL}/attachments/not-a-token").status_code == 404
