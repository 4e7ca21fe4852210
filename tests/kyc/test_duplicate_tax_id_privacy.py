"""A tax id that another organization has verified: the uploader learns only that a person must
look; which organization holds it is for platform staff (issue 13, item 2)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.kyc.models import DocumentStatus
from tests.factories import OrganizationFactory, member
from tests.kyc.conftest import INN, run_checks, upload
from tests.support import admin_client as logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def duplicate(api, shipper_org, staff):
    """`shipper_org` uploads the INN that "Holder of the INN" already has verified."""
    organization, admin = shipper_org
    holder = OrganizationFactory(name="Holder of the INN", tax_id=INN)
    holder_document = upload(api(member(holder))).json()["id"]
    run_checks(holder_document, holder.id)
    approved = api(staff).put(f"/api/v1/kyc/documents/{holder_document}/status", {"status": "approved"}, format="json")
    assert approved.status_code == 200, approved.content
    document_id = upload(api(admin)).json()["id"]
    run_checks(document_id, organization.id)
    return organization, admin, holder, document_id


def test_the_uploader_sees_that_the_document_needs_review_but_not_who_holds_the_tax_id(api, duplicate):
    _, admin, holder, document_id = duplicate
    client = api(admin)

    detail = client.get(f"/api/v1/kyc/documents/{document_id}")
    listed = client.get("/api/v1/kyc/documents")

    body = detail.json()
    assert body["status"] == DocumentStatus.PENDING_REVIEW
    assert body["flagged_for_review"] is True
    failed = [check for check in body["check_results"] if not check["passed"]]
    assert [check["name"] for check in failed] == ["unique_tax_id"]
    assert "review" in failed[0]["message"]
    for response in (detail, listed):
        assert str(holder.id) not in response.content.decode()
        assert holder.name not in response.content.decode()


def test_the_events_of_the_uploader_never_name_the_holder(duplicate):
    organization, _, holder, _ = duplicate

    with system_scope(reason="test reads the uploader's events", audit=False):
        payloads = [json.dumps(event.payload) for event in OutboxEvent.objects.filter(organization_id=organization.id)]

    assert payloads  # uploaded, checked: events were written
    assert not [payload for payload in payloads if str(holder.id) in payload or holder.name in payload]


def test_platform_staff_see_the_holder_in_the_admin_and_the_uploaders_admin_does_not(staff, duplicate):
    _, admin, holder, document_id = duplicate
    url = reverse("admin:kyc_kycdocument_change", args=[document_id])

    as_staff = logged_in(staff).get(url)
    as_org_admin = logged_in(admin).get(url)
    review = logged_in(staff).get(reverse("admin:kyc_kycdocument_review", args=[document_id]))

    assert as_staff.status_code == 200
    assert str(holder.id) in as_staff.content.decode()
    assert holder.name in as_staff.content.decode()
    assert holder.name in review.content.decode()
    assert as_org_admin.status_code == 200
    assert str(holder.id) not in as_org_admin.content.decode()
    assert holder.name not in as_org_admin.content.decode()
