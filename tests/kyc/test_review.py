"""The review cycle: staff decisions, resubmission, verification levels, expiry, and the gate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail

from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog, OutboxEvent
from apps.kyc import services, tasks
from apps.kyc.models import DocumentStatus, KycDocument
from apps.tenancy.models import Organization
from tests.beat import run_beat_job
from tests.factories import FeatureFactory
from tests.kyc.conftest import OGRN, run_checks, stored_documents, upload

pytestmark = pytest.mark.django_db


def checked_upload(client, organization, **form) -> str:
    document_id = upload(client, **form).json()["id"]
    run_checks(document_id, organization.id)
    return document_id


def decide(api, staff, document_id, status, reason=""):
    return api(staff).put(
        f"/api/v1/kyc/documents/{document_id}/status", {"status": status, "reason": reason}, format="json"
    )


def verification(api, admin) -> dict:
    return api(admin).get("/api/v1/kyc/verification-status").json()


def organization_level(organization) -> str:
    with system_scope(reason="test", audit=False):
        return Organization.objects.get(pk=organization.pk).verification_level


def verified(api, staff, organization, admin) -> list[str]:
    """Take the organization through basic verification; returns the approved document ids."""
    documents = [
        checked_upload(api(admin), organization),
        checked_upload(api(admin), organization, document_type="ogrn", number=OGRN),
    ]
    for document_id in documents:
        assert decide(api, staff, document_id, "approved").status_code == 200
    return documents


def test_approving_the_basic_documents_verifies_the_organization(api, shipper_org, staff):
    organization, admin = shipper_org

    verified(api, staff, organization, admin)

    body = verification(api, admin)
    assert body["status"] == "verified"
    assert body["verified_level"] == "basic"
    assert organization_level(organization) == "basic"
    with system_scope(reason="test", audit=False):
        assert AuditLog.objects.filter(action="kyc.document_approved", organization_id=organization.id).count() == 2
        assert OutboxEvent.objects.filter(
            event_type="kyc.verification_changed", organization_id=organization.id, payload__status="verified"
        ).exists()


def test_the_first_decision_puts_the_verification_in_review(api, shipper_org, staff):
    organization, admin = shipper_org
    document_id = checked_upload(api(admin), organization)

    decide(api, staff, document_id, "approved")

    assert verification(api, admin)["status"] == "in_review"


def test_rejecting_needs_a_reason_and_changes_nothing_without_one(api, shipper_org, staff):
    organization, admin = shipper_org
    document_id = checked_upload(api(admin), organization)

    response = decide(api, staff, document_id, "rejected")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_REQUIRED"
    assert stored_documents(organization.id)[0].status == DocumentStatus.PENDING_REVIEW


def test_deciding_twice_is_an_invalid_transition(api, shipper_org, staff):
    organization, admin = shipper_org
    document_id = checked_upload(api(admin), organization)
    decide(api, staff, document_id, "approved")

    response = decide(api, staff, document_id, "rejected", "changed my mind")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert stored_documents(organization.id)[0].status == DocumentStatus.APPROVED


def test_deciding_before_the_checks_ran_is_an_invalid_transition(api, shipper_org, staff):
    _, admin = shipper_org
    document_id = upload(api(admin)).json()["id"]

    assert decide(api, staff, document_id, "approved").json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_only_platform_staff_decide(api, shipper_org):
    organization, admin = shipper_org
    document_id = checked_upload(api(admin), organization)

    response = decide(api, admin, document_id, "approved")

    assert response.status_code == 403
    assert stored_documents(organization.id)[0].status == DocumentStatus.PENDING_REVIEW


def test_a_rejection_and_a_resubmission_keep_both_versions(api, shipper_org, staff):
    organization, admin = shipper_org
    first = checked_upload(api(admin), organization)
    decide(api, staff, first, "rejected", "The scan is unreadable.")
    assert verification(api, admin)["status"] == "rejected"
    assert api(admin).get(f"/api/v1/kyc/documents/{first}").json()["review_note"] == "The scan is unreadable."

    from tests.kyc.conftest import INN, pdf_file

    response = api(admin).post(
        "/api/v1/kyc/resubmit",
        {"previous_document_id": first, "number": INN, "file": pdf_file("inn-v2.pdf")},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    second = response.json()
    assert second["version"] == 2
    assert second["previous_version"] == first
    assert second["document_type"] == "inn"
    old, new = stored_documents(organization.id)
    assert (old.status, old.review_note, old.original_filename) == (
        DocumentStatus.SUPERSEDED,
        "The scan is unreadable.",
        "inn.pdf",
    )
    assert old.file.name != new.file.name
    assert verification(api, admin)["status"] == "pending"


def test_a_superseded_document_cannot_be_resubmitted_again(api, shipper_org, staff):
    organization, admin = shipper_org
    first = checked_upload(api(admin), organization)
    decide(api, staff, first, "rejected", "Blurred.")
    from tests.kyc.conftest import INN, pdf_file

    def resubmit():
        return api(admin).post(
            "/api/v1/kyc/resubmit",
            {"previous_document_id": first, "number": INN, "file": pdf_file()},
            format="multipart",
        )

    assert resubmit().status_code == 201
    again = resubmit()
    assert again.status_code == 422
    assert again.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_asking_for_a_higher_level_reopens_a_verified_organization(api, shipper_org, staff):
    organization, admin = shipper_org
    verified(api, staff, organization, admin)

    response = api(admin).patch("/api/v1/kyc/verification-status", {"target_level": "enhanced"}, format="json")

    body = response.json()
    assert body["status"] == "pending"
    assert body["target_level"] == "enhanced"
    assert body["verified_level"] == "basic"  # what is approved still counts


# --- Expiry ---------------------------------------------------------------------------------


def expiry_sweep(*, today: date) -> dict:
    """The daily beat job, as its tasks run it: each organization in its own scope."""
    outcomes = run_beat_job(tasks.kyc_expiry_sweep, today.isoformat())
    return {key: sum(outcome[key] for outcome in outcomes) for key in ("expired", "warned")}


def test_the_daily_job_expires_documents_and_reopens_the_verification(api, shipper_org, staff):
    organization, admin = shipper_org
    inn, _ = verified(api, staff, organization, admin)
    with system_scope(reason="test: the document's date passes", audit=False):
        KycDocument.objects.filter(pk=inn).update(expires_on=date.today() - timedelta(days=1))

    outcome = expiry_sweep(today=date.today())

    assert outcome["expired"] == 1
    assert stored_documents(organization.id)[0].status == DocumentStatus.EXPIRED
    body = verification(api, admin)
    assert body["status"] == "pending"
    assert body["verified_level"] is None
    assert organization_level(organization) == "none"
    with system_scope(reason="test", audit=False):
        assert OutboxEvent.objects.filter(event_type="kyc.document_expired", aggregate_id=inn).exists()


def test_the_daily_job_warns_once_thirty_days_ahead(api, shipper_org, staff):
    organization, admin = shipper_org
    inn, _ = verified(api, staff, organization, admin)
    with system_scope(reason="test", audit=False):
        KycDocument.objects.filter(pk=inn).update(expires_on=date.today() + timedelta(days=20))

    first = expiry_sweep(today=date.today())
    second = expiry_sweep(today=date.today())
    with tenant_scope(organization.id):  # what the queued task does
        services.document_send_expiry_warning(document_id=inn)

    assert (first["warned"], second["warned"]) == (1, 0)
    assert stored_documents(organization.id)[0].status == DocumentStatus.APPROVED
    assert [message.to for message in mail.outbox] == [[admin.email]]
    with system_scope(reason="test", audit=False):
        assert OutboxEvent.objects.filter(event_type="kyc.document_expiring", aggregate_id=inn).count() == 1


# --- The gate -------------------------------------------------------------------------------


def test_switching_escrow_on_needs_a_verified_organization(api, shipper_org, staff):
    organization, admin = shipper_org
    FeatureFactory(organization=organization, name="escrow", is_entitled=True, is_enabled=False)
    url = f"/api/v1/organizations/{organization.id}/features/escrow"

    refused = api(admin).patch(url, {"enabled": True}, format="json")
    verified(api, staff, organization, admin)
    allowed = api(admin).patch(url, {"enabled": True}, format="json")

    assert refused.status_code == 422
    assert refused.json()["error_code"] == "KYC_NOT_VERIFIED"
    assert allowed.status_code == 200
    assert allowed.json()["is_enabled"] is True


def test_an_ungated_action_passes_without_verification(shipper_org, settings):
    from apps.kyc.gate import require_verified

    organization, _ = shipper_org
    settings.KYC_GATED_ACTIONS = ["escrow.fund"]

    require_verified(organization_id=organization.id, action="feature.escrow.enable")  # no error
    with pytest.raises(Exception, match="KYC verification"):
        require_verified(organization_id=organization.id, action="escrow.fund")
