"""Previews of evidence files, drawn off the request in the shared sandbox: a real worker draws an
uploaded photo's and a PDF's first page's thumbnail; a decompression bomb or a damaged PDF ends as
a failed preview (logged), never as a failed task; a type without preview gets none without any
drawing; a second delivery of the task changes nothing; the beat job asks again for a preview
whose task was lost."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.core.context import system_scope, tenant_scope
from apps.core.previews import MAX_SOURCE_PIXELS
from apps.disputes import services
from apps.disputes.models import DisputeEvidence, PreviewStatus
from apps.disputes.tasks import disputes_previews_resubmit, evidence_preview_render
from config.celery import app as celery_app
from tests.disputes.test_disputes_api import open_case
from tests.support import wait_until

PREVIEW_WIDTH = settings.DISPUTES["PREVIEW_MAX_WIDTH"]


def image_bytes(size: tuple[int, int], *, mode: str = "RGB", color="brown", kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=kind)
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (595, 842), "white").save(buffer, format="PDF")
    return buffer.getvalue()


def add_file(api, party, case_id, name: str, data: bytes, content_type: str):
    return api(party.staff).post(
        f"/api/v1/disputes/{case_id}/evidence",
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        format="multipart",
    )


def evidence_row(evidence_id) -> DisputeEvidence:
    with system_scope(reason="test: read the evidence"):
        return DisputeEvidence.objects.get(pk=evidence_id)


def preview_of(evidence: DisputeEvidence) -> Image.Image:
    with system_scope(reason="test: read the preview"), evidence.preview.open("rb") as stored:
        image = Image.open(io.BytesIO(stored.read()))
        image.load()
    return image


def test_a_real_worker_draws_the_preview_of_an_uploaded_photo_and_pdf(celery_worker, api, client_party, order):
    case = open_case(api, client_party, order).json()

    photo = add_file(api, client_party, case["id"], "pallets.jpg", image_bytes((1600, 1200), kind="JPEG"), "image/jpeg")
    cmr = add_file(api, client_party, case["id"], "cmr.pdf", pdf_bytes(), "application/pdf")

    assert photo.status_code == 201 and cmr.status_code == 201, (photo.json(), cmr.json())
    for response in (photo, cmr):
        evidence_id = response.json()["id"]
        assert wait_until(lambda evidence_id=evidence_id: evidence_row(evidence_id).preview_status == "ready"), (
            f"no preview drawn: {evidence_row(evidence_id).preview_status!r}"
        )
    photo_preview = preview_of(evidence_row(photo.json()["id"]))
    assert photo_preview.format == "PNG" and photo_preview.size == (PREVIEW_WIDTH, 360)
    pdf_preview = preview_of(evidence_row(cmr.json()["id"]))
    assert pdf_preview.width == PREVIEW_WIDTH and pdf_preview.height > pdf_preview.width  # a portrait page


@pytest.mark.django_db
def test_an_uploaded_file_waits_for_its_preview_and_a_statement_has_none(api, client_party, order):
    case = open_case(api, client_party, order).json()

    upload = add_file(api, client_party, case["id"], "photo.png", image_bytes((30, 20)), "image/png")
    statement = api(client_party.staff).post(
        f"/api/v1/disputes/{case['id']}/evidence", {"statement": "Crushed on arrival."}, format="json"
    )

    assert evidence_row(upload.json()["id"]).preview_status == "pending"
    assert evidence_row(statement.json()["id"]).preview_status == ""


def _render_in_scope(evidence: DisputeEvidence) -> DisputeEvidence:
    with tenant_scope(evidence.client_organization_id):
        return services.evidence_preview_render(evidence_id=evidence.id)


@pytest.mark.django_db
def test_a_decompression_bomb_gets_a_failed_preview_and_the_task_succeeds(api, client_party, order, caplog):
    # 81 million pixels in a PNG of 80 kilobytes: decoding it would take hundreds of MB.
    bomb = image_bytes((9000, 9000), mode="L", color=0)
    case = open_case(api, client_party, order).json()
    added = add_file(api, client_party, case["id"], "bomb.png", bomb, "image/png")
    assert added.status_code == 201 and len(bomb) < 200_000 and MAX_SOURCE_PIXELS < 9000 * 9000

    with caplog.at_level(logging.WARNING, logger="apps.disputes.services.previews"):
        status = evidence_preview_render.apply(args=[added.json()["id"], str(client_party.org.id)]).get()

    assert status == "failed"
    row = evidence_row(added.json()["id"])
    assert row.preview_status == "failed" and not row.preview
    assert [r.message for r in caplog.records] == ["dispute.evidence_preview_failed"]
    assert "81,000,000 pixels" in caplog.records[0].reason


@pytest.mark.django_db
def test_a_damaged_pdf_gets_a_failed_preview(api, client_party, order):
    case = open_case(api, client_party, order).json()
    added = add_file(api, client_party, case["id"], "cmr.pdf", pdf_bytes(), "application/pdf")
    evidence = evidence_row(added.json()["id"])
    # Damaged in storage after the upload check passed it: only its header is left.
    with system_scope(reason="test: damage the stored file"):
        evidence.file.storage.delete(evidence.file.name)
        evidence.file.storage.save(evidence.file.name, io.BytesIO(b"%PDF-1.7\n%broken\n"))

    rendered = _render_in_scope(evidence)

    assert rendered.preview_status == "failed" and not rendered.preview


@pytest.mark.django_db
def test_a_second_delivery_of_the_task_changes_nothing(api, client_party, order):
    case = open_case(api, client_party, order).json()
    added = add_file(api, client_party, case["id"], "photo.png", image_bytes((40, 30)), "image/png")
    evidence = evidence_row(added.json()["id"])

    first = _render_in_scope(evidence)
    again = _render_in_scope(evidence)

    assert first.preview_status == again.preview_status == "ready"
    assert again.preview.name == first.preview.name and first.preview.name.endswith(".preview.png")


@pytest.mark.django_db
def test_a_type_without_a_preview_gets_none_without_drawing(api, client_party, order):
    case = open_case(api, client_party, order).json()
    added = add_file(api, client_party, case["id"], "photo.png", image_bytes((40, 30)), "image/png")
    # A type the upload check may accept one day, that the drawing code knows nothing of.
    with system_scope(reason="test: a type without preview"):
        DisputeEvidence.objects.filter(pk=added.json()["id"]).update(content_type="text/plain")

    rendered = _render_in_scope(evidence_row(added.json()["id"]))

    assert rendered.preview_status == "none" and not rendered.preview


@pytest.mark.django_db
def test_only_previews_pending_past_the_resubmit_delay_are_waiting(api, client_party, order):
    # given three uploads: one drawn, one pending for an hour (its task lost), one pending just now
    case = open_case(api, client_party, order).json()
    drawn, lost, fresh = (
        add_file(api, client_party, case["id"], f"photo-{n}.png", image_bytes((40, 30)), "image/png").json()["id"]
        for n in range(3)
    )
    _render_in_scope(evidence_row(drawn))
    with system_scope(reason="test: the lost one was added an hour ago"):
        DisputeEvidence.objects.filter(pk=lost).update(preview_requested_at=timezone.now() - timedelta(hours=1))

    # when the beat job's service looks for them, in the bypass scope
    with system_scope(reason="test: find the previews waiting", audit=False):
        waiting = services.evidence_previews_waiting()

    # then only the lost one is asked for again, in its client organization's scope
    assert [(str(evidence_id), organization_id) for evidence_id, organization_id in waiting] == [
        (lost, client_party.org.id)
    ]
    assert evidence_row(fresh).preview_status == evidence_row(lost).preview_status == "pending"


def test_the_beat_job_asks_again_for_a_preview_whose_task_was_lost(celery_worker, api, client_party, order):
    # given two drawn previews, then put back to pending: one added an hour ago (its task lost),
    # one added just now (its task may still run)
    case = open_case(api, client_party, order).json()
    lost, fresh = (
        add_file(api, client_party, case["id"], f"photo-{n}.png", image_bytes((40, 30)), "image/png").json()["id"]
        for n in range(2)
    )
    assert wait_until(lambda: evidence_row(lost).preview_status == evidence_row(fresh).preview_status == "ready")
    with system_scope(reason="test: rewind the previews", audit=False):
        DisputeEvidence.objects.filter(pk__in=[lost, fresh]).update(preview_status=PreviewStatus.PENDING, preview="")
        DisputeEvidence.objects.filter(pk=lost).update(preview_requested_at=timezone.now() - timedelta(hours=1))

    # when the beat job runs (here in the test's process; the drawing goes to the worker)
    asked = disputes_previews_resubmit()

    # then the lost one is drawn again, and the one whose task may still run is left alone
    assert asked == 1
    assert wait_until(lambda: evidence_row(lost).preview_status == "ready", timeout=30)
    assert evidence_row(lost).preview.name.endswith(".preview.png")
    assert evidence_row(fresh).preview_status == "pending"


def test_the_drawing_goes_to_the_documents_queue_and_the_resubmit_runs_on_beat():
    route = celery_app.amqp.router.route({}, evidence_preview_render.name)

    assert route["queue"].name == "documents"  # with KYC's previews, away from the default queue
    assert settings.CELERY_BEAT_SCHEDULE["disputes-previews-resubmit"]["task"] == disputes_previews_resubmit.name


@pytest.mark.django_db
def test_asking_again_restarts_the_clock_so_a_slow_queue_gets_no_repeats(api, client_party, order):
    # given a preview pending for an hour
    case = open_case(api, client_party, order).json()
    lost = add_file(api, client_party, case["id"], "photo.png", image_bytes((40, 30)), "image/png").json()["id"]
    with system_scope(reason="test: the lost one was asked for an hour ago"):
        DisputeEvidence.objects.filter(pk=lost).update(preview_requested_at=timezone.now() - timedelta(hours=1))

    # when it is asked for again, and the job looks once more before the worker drew it
    with tenant_scope(client_party.org.id):
        services.evidence_preview_resubmit(evidence_id=lost)
    with system_scope(reason="test: find the previews waiting", audit=False):
        waiting = services.evidence_previews_waiting()

    # then it is not asked for a second time
    assert waiting == []
    assert evidence_row(lost).preview_status == "pending"
