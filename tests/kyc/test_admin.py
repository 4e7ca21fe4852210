"""The KYC review queue in the back-office."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.kyc import services
from apps.kyc.models import DocumentStatus
from tests.factories import OrganizationFactory, member
from tests.kyc.conftest import run_checks, stored_documents, upload
from tests.support import admin_client as logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(api, shipper_org):
    """A document that passed the automated checks and waits for staff."""
    organization, admin = shipper_org
    document_id = upload(api(admin)).json()["id"]
    run_checks(document_id, organization.id)
    return organization, admin, document_id


def test_the_queue_lists_waiting_documents_with_their_checks(staff, waiting):
    organization, _, _ = waiting

    body = logged_in(staff).get(reverse("admin:kyc_kycdocument_changelist") + "?status=pending_review")

    assert body.status_code == 200
    assert organization.name in body.content.decode()
    assert "passed" in body.content.decode()


def test_the_review_page_shows_the_preview_beside_the_checks(staff, waiting):
    organization, _, document_id = waiting
    # what the worker's preview task does (tests/kyc/test_previews.py runs a real one)
    services.document_render_preview(organization_id=organization.id, document_id=document_id)

    page = logged_in(staff).get(reverse("admin:kyc_kycdocument_review", args=[document_id]))

    content = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/png;base64,' in content
    assert "inn_checksum" in content


def test_staff_reject_with_a_reason_from_the_admin(staff, waiting):
    organization, _, document_id = waiting
    url = reverse("admin:kyc_kycdocument_review", args=[document_id])
    client = logged_in(staff)

    without_reason = client.post(url, {"decision": "reject", "reason": ""})
    with_reason = client.post(url, {"decision": "reject", "reason": "The stamp is missing."})

    assert without_reason.status_code == 200  # the form again, with the error
    assert "Say why" in without_reason.content.decode()
    assert with_reason.status_code == 302
    document = stored_documents(organization.id)[0]
    assert (document.status, document.review_note, document.reviewer_id) == (
        DocumentStatus.REJECTED,
        "The stamp is missing.",
        staff.id,
    )


def test_staff_approve_from_the_admin(staff, waiting):
    organization, _, document_id = waiting

    logged_in(staff).post(reverse("admin:kyc_kycdocument_review", args=[document_id]), {"decision": "approve"})

    assert stored_documents(organization.id)[0].status == DocumentStatus.APPROVED


def test_an_org_admin_sees_only_their_documents_and_cannot_decide(waiting):
    organization, admin, document_id = waiting
    other = OrganizationFactory(name="Someone Else Ltd")
    stranger = member(other)
    client = logged_in(admin)

    mine = client.get(reverse("admin:kyc_kycdocument_changelist")).content.decode()
    theirs = logged_in(stranger).get(reverse("admin:kyc_kycdocument_changelist")).content.decode()
    review = client.post(reverse("admin:kyc_kycdocument_review", args=[document_id]), {"decision": "approve"})

    assert organization.name in mine
    assert organization.name not in theirs
    assert review.status_code == 403
    assert stored_documents(organization.id)[0].status == DocumentStatus.PENDING_REVIEW
