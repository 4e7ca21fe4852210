"""The automated checks run in a real Celery worker after the upload commits."""

from __future__ import annotations

from tests.factories import OrganizationFactory, member
from tests.kyc.conftest import INN, OGRN, upload
from tests.support import wait_until


def test_a_real_worker_runs_the_checks_and_the_api_shows_their_results(api, celery_worker):
    organization = OrganizationFactory(tax_id=INN, registration_number=OGRN)
    client = api(member(organization))
    document_id = upload(client).json()["id"]

    def checked() -> bool:
        return client.get(f"/api/v1/kyc/documents/{document_id}").json()["status"] != "checking"

    assert wait_until(checked), "the worker never ran the checks"
    body = client.get(f"/api/v1/kyc/documents/{document_id}").json()
    assert body["status"] == "pending_review"
    assert body["checks_completed_at"] is not None
    assert {"inn_checksum", "file_type", "matches_organization"} <= {c["name"] for c in body["check_results"]}
