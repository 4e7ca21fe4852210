"""Previews of evidence files, drawn off the request: a real worker draws an uploaded photo's and a
PDF's first page's thumbnail; a decompression bomb or a damaged PDF ends as a failed preview
(logged), never as a failed task; a second delivery of the task changes nothing."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.core.context import system_scope, tenant_scope
from apps.disputes import services
from apps.disputes.models import DisputeEvidence
from apps.disputes.services.previews import PREVIEW_WIDTH, preview_png
from apps.disputes.tasks import evidence_preview_render
from tests.disputes.test_disputes_api import open_case
from tests.support import wait_until


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
    # 64 million pixels in a PNG of a few kilobytes: decoding it would take hundreds of MB.
    bomb = image_bytes((8000, 8000), mode="L", color=0)
    case = open_case(api, client_party, order).json()
    added = add_file(api, client_party, case["id"], "bomb.png", bomb, "image/png")
    assert added.status_code == 201 and len(bomb) < 200_000

    with caplog.at_level(logging.WARNING, logger="apps.disputes.services.previews"):
        status = evidence_preview_render.apply(args=[added.json()["id"], str(client_party.org.id)]).get()

    assert status == "failed"
    row = evidence_row(added.json()["id"])
    assert row.preview_status == "failed" and not row.preview
    assert [r.message for r in caplog.records] == ["dispute.evidence_preview_failed"]
    assert "PreviewRefused" in caplog.records[0].error


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


def test_a_type_without_a_preview_gets_none():
    assert preview_png(b"plain text", "text/plain") is None
