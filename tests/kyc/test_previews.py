"""KYC previews are drawn by a worker in a limited child process, never in the admin request
(issue 13, item 14): the admin shows "pending", then the image, or "unavailable" with the reason."""

from __future__ import annotations

import io
import zlib

import pytest
from django.urls import reverse
from PIL import Image

from apps.core.preview_sandbox import PreviewLimits, render_in_sandbox
from apps.kyc.models import PreviewStatus
from apps.kyc.services import document_preview_limits
from tests.factories import OrganizationFactory, UserFactory, member
from tests.kyc.conftest import INN, OGRN, pdf_file, stored_documents, upload
from tests.support import admin_client as logged_in
from tests.support import wait_until


def handmade_pdf(*, media_box: str = "0 0 600 800", content: bytes = b"", pages: int = 1) -> bytes:
    """A PDF written byte by byte: what a hostile client can send, no library smoothing it."""
    stream = zlib.compress(content, 9)
    page_ids = [4 + index for index in range(pages)]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{i} 0 R' for i in page_ids)}] /Count {pages} >>".encode(),
        f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream",
        *[f"<< /Type /Page /Parent 2 0 R /MediaBox [{media_box}] /Contents 3 0 R >>".encode() for _ in page_ids],
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


# Five million full-page strokes compress to about 200 KB; PDFium needs gigabytes and minutes.
STROKE_BOMB = handmade_pdf(content=b"0 0 m 600 800 l S\n" * 5_000_000)
# A page a million points (350 metres) on a side.
HUGE_PAGE = handmade_pdf(media_box="0 0 1000000 1000000", content=b"0 0 m 100 100 l S\n")


def preview_size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        return image.size


def change_page(client, document_id):
    return client.get(reverse("admin:kyc_kycdocument_change", args=[document_id]))


def preview_settled(document_id, organization_id):
    def settled() -> bool:
        return stored_documents(organization_id)[0].preview_status not in (
            PreviewStatus.PENDING,
            PreviewStatus.NOT_REQUESTED,
        )

    return settled


@pytest.fixture
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_the_admin_answers_preview_pending_before_any_worker_has_run(api, shipper_org, staff):
    # given an upload whose preview task has not run (this test's transaction never commits)
    _, admin = shipper_org
    document_id = upload(api(admin)).json()["id"]

    # when staff open the document and its review page
    page = change_page(logged_in(staff), document_id)
    review = logged_in(staff).get(reverse("admin:kyc_kycdocument_review", args=[document_id]))

    # then the pages answer at once, without drawing anything themselves
    for response in (page, review):
        assert response.status_code == 200
        assert "Preview pending" in response.content.decode()
        assert "data:image/png" not in response.content.decode()


def test_a_real_worker_draws_the_preview_and_the_admin_shows_it(api, celery_worker, private_media):
    organization = OrganizationFactory(tax_id=INN, registration_number=OGRN)
    document_id = upload(api(member(organization))).json()["id"]

    assert wait_until(preview_settled(document_id, organization.id), timeout=30), "no worker drew the preview"
    document = stored_documents(organization.id)[0]
    assert document.preview_status == PreviewStatus.READY
    assert document.preview_file.name == f"kyc/{organization.id}/{document_id}-preview.png"
    assert (private_media / document.preview_file.name).read_bytes().startswith(b"\x89PNG")
    page = change_page(logged_in(UserFactory(is_staff=True, is_superuser=True)), document_id)
    assert page.status_code == 200
    assert 'src="data:image/png;base64,' in page.content.decode()


def test_a_pdf_bomb_fails_within_its_limits_the_admin_says_unavailable_and_the_worker_lives_on(
    api, celery_worker, private_media
):
    organization = OrganizationFactory(tax_id=INN, registration_number=OGRN)
    client = api(member(organization))
    bomb_id = upload(client, file=pdf_file("inn.pdf", STROKE_BOMB)).json()["id"]

    assert wait_until(preview_settled(bomb_id, organization.id), timeout=60), "the bomb's preview never settled"
    document = stored_documents(organization.id)[0]
    assert document.preview_status == PreviewStatus.UNAVAILABLE
    assert document.preview_note  # memory or time, whichever limit the machine reaches first
    staff = logged_in(UserFactory(is_staff=True, is_superuser=True))
    page = change_page(staff, bomb_id)
    assert page.status_code == 200
    assert "Preview unavailable" in page.content.decode()
    # the same worker still draws the next document
    good_id = upload(client, file=pdf_file("inn-2.pdf")).json()["id"]
    assert wait_until(lambda: stored_documents(organization.id)[1].preview_status == PreviewStatus.READY, timeout=30)
    assert 'src="data:image/png;base64,' in change_page(staff, good_id).content.decode()


def test_a_page_larger_than_any_paper_is_refused_and_the_reason_shown(api, celery_worker, private_media):
    organization = OrganizationFactory(tax_id=INN, registration_number=OGRN)
    document_id = upload(api(member(organization)), file=pdf_file("inn.pdf", HUGE_PAGE)).json()["id"]

    assert wait_until(preview_settled(document_id, organization.id), timeout=30)
    document = stored_documents(organization.id)[0]
    assert document.preview_status == PreviewStatus.UNAVAILABLE
    assert "14,400 points" in document.preview_note
    page = change_page(logged_in(UserFactory(is_staff=True, is_superuser=True)), document_id).content.decode()
    assert "Preview unavailable" in page
    assert "14,400 points" in page


def test_only_the_first_pages_of_a_long_pdf_are_drawn():
    limits = PreviewLimits(
        timeout_seconds=20, memory_bytes=512 * 1024 * 1024, max_pages=3, max_pixels=8_000_000, max_width=800
    )
    five_hundred_pages = handmade_pdf(media_box="0 0 800 400", content=b"0 0 m 800 400 l S\n", pages=500)

    outcome = render_in_sandbox(data=five_hundred_pages, content_type="application/pdf", limits=limits)

    assert outcome.reason == ""
    assert preview_size(outcome.png) == (800, 3 * 400)


def test_a_child_over_its_memory_limit_is_a_clean_failure():
    # a time limit far beyond what the bomb needs to exhaust the memory: the memory limit stops it
    limits = PreviewLimits(
        timeout_seconds=300, memory_bytes=256 * 1024 * 1024, max_pages=1, max_pixels=8_000_000, max_width=800
    )

    outcome = render_in_sandbox(data=STROKE_BOMB, content_type="application/pdf", limits=limits)

    assert outcome.png is None
    assert "256 MB" in outcome.reason


def test_a_file_uploaded_as_pdf_that_pdfium_cannot_read_has_no_preview_and_says_why():
    limits = document_preview_limits()

    outcome = render_in_sandbox(data=b"%PDF-1.7 nothing else", content_type="application/pdf", limits=limits)

    assert outcome.png is None
    assert "cannot be drawn" in outcome.reason


def test_the_beat_job_asks_again_for_previews_no_worker_will_draw(api, celery_worker, private_media):
    # given three drawn previews, then put back: one never requested (stored before previews
    # moved to a worker), one pending for an hour (its task lost), one pending just now
    from datetime import timedelta

    from django.utils import timezone

    from apps.core.context import system_scope
    from apps.kyc.models import KycDocument
    from apps.kyc.tasks import kyc_previews_resubmit

    organization = OrganizationFactory(tax_id=INN, registration_number=OGRN)
    client = api(member(organization))
    legacy, lost, fresh = (upload(client, file=pdf_file(f"inn-{n}.pdf")).json()["id"] for n in range(3))
    assert wait_until(lambda: all(d.preview_status == PreviewStatus.READY for d in stored_documents(organization.id)))
    with system_scope(reason="test rewinds the previews", audit=False):
        KycDocument.objects.filter(pk=legacy).update(preview_status=PreviewStatus.NOT_REQUESTED, preview_file="")
        an_hour_ago = timezone.now() - timedelta(hours=1)
        KycDocument.objects.filter(pk=lost).update(preview_status=PreviewStatus.PENDING, updated_at=an_hour_ago)
        KycDocument.objects.filter(pk=fresh).update(preview_status=PreviewStatus.PENDING, updated_at=timezone.now())

    # when the beat job runs (here in the test's process; the drawing goes to the worker)
    asked = kyc_previews_resubmit()

    # then the two that nobody would draw are drawn, and the one whose task may still run is left alone
    def statuses() -> dict[str, str]:
        return {str(document.id): document.preview_status for document in stored_documents(organization.id)}

    assert asked == 2
    assert wait_until(lambda: statuses()[legacy] == statuses()[lost] == "ready", timeout=30)
    status = statuses()
    assert (status[legacy], status[lost], status[fresh]) == ("ready", "ready", "pending")
