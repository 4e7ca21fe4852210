"""Uploading KYC documents: what is refused (and leaves nothing behind), what the automated
checks record, downloads, and other tenants."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter

from apps.kyc.models import DocumentStatus, VerificationStatus
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.kyc.conftest import INN, OGRN, pdf_bytes, pdf_file, png_bytes, run_checks, stored_documents, upload

pytestmark = pytest.mark.django_db


def files_of(organization_id) -> list[Path]:
    folder = Path(django_settings.MEDIA_ROOT) / "kyc" / str(organization_id)
    return list(folder.glob("*")) if folder.exists() else []


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inside.txt", "hello")
    return buffer.getvalue()


def encrypted_pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_valid_inn_document_is_stored_and_the_verification_becomes_pending(api, shipper_org):
    organization, admin = shipper_org

    response = upload(api(admin))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "checking"
    assert body["version"] == 1
    assert body["content_type"] == "application/pdf"
    assert api(admin).get("/api/v1/kyc/verification-status").json()["status"] == "pending"
    assert len(files_of(organization.id)) == 1


def test_the_automated_checks_are_recorded_and_visible(api, shipper_org):
    organization, admin = shipper_org
    document_id = upload(api(admin)).json()["id"]

    run_checks(document_id, organization.id)
    body = api(admin).get(f"/api/v1/kyc/documents/{document_id}").json()

    assert body["status"] == "pending_review"
    results = {check["name"]: check["passed"] for check in body["check_results"]}
    assert results["inn_checksum"] is True
    assert results["matches_organization"] is True
    assert results["unique_tax_id"] is True
    assert body["flagged_for_review"] is False


@pytest.mark.parametrize(
    ("case", "form", "message"),
    [
        ("unknown type", {"document_type": "diploma"}, "not a valid choice"),
        ("invalid INN", {"number": "7707083894"}, "7707083894"),
        ("zip renamed .pdf", {"file": SimpleUploadedFile("inn.pdf", zip_bytes())}, "ZIP"),
        (
            "html renamed .pdf",
            {"file": SimpleUploadedFile("inn.pdf", b"<!DOCTYPE html><html><body>hi</body></html>")},
            "HTML",
        ),
        ("png named .pdf", {"file": SimpleUploadedFile("inn.pdf", png_bytes())}, "PNG"),
        ("empty file", {"file": SimpleUploadedFile("inn.pdf", b"")}, "empty"),
        ("encrypted pdf", {"file": SimpleUploadedFile("inn.pdf", encrypted_pdf_bytes())}, "password-protected"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_stored(api, shipper_org, case, form, message):
    organization, admin = shipper_org

    response = upload(api(admin), **form)

    assert response.status_code == 400, case
    body = response.json()
    assert body["error_code"].startswith("VALIDATION_")
    assert message.lower() in str(body).lower(), body
    assert stored_documents(organization.id) == []
    assert files_of(organization.id) == []


def test_a_path_in_the_file_name_is_refused(api, shipper_org):
    # Django's test client sends only the base name: write the multipart body by hand.
    organization, admin = shipper_org
    boundary = "manifestboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="document_type"\r\n\r\ninn\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="number"\r\n\r\n{INN}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="../../etc/inn.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode(),
        pdf_bytes(),
        f"\r\n--{boundary}--\r\n".encode(),
    ]

    response = api(admin).generic(
        "POST", "/api/v1/kyc/documents", b"".join(parts), content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert response.status_code == 400
    assert "path" in response.json()["message"]
    assert stored_documents(organization.id) == []
    assert files_of(organization.id) == []


def test_an_oversize_file_is_refused(api, shipper_org, settings):
    settings.KYC_MAX_FILE_BYTES = 2000
    organization, admin = shipper_org
    padded = pdf_bytes() + b"%" + b"0" * 3000

    response = upload(api(admin), file=pdf_file(data=padded))

    assert response.status_code == 400
    assert response.json()["message"] == "The file is 3.4 KB; the limit is 2 KB."
    assert stored_documents(organization.id) == []


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(api, shipper_org, settings):
    settings.MAX_UPLOAD_BODY_BYTES = 1000
    _, admin = shipper_org

    response = upload(api(admin), file=pdf_file(data=pdf_bytes() + b"%" + b"0" * 2000))

    assert response.status_code == 413


def test_bank_details_need_their_bic_and_account(api, shipper_org):
    organization, admin = shipper_org

    response = upload(api(admin), document_type="bank_details", number="")

    assert response.status_code == 400
    assert set(response.json()["details"]) >= {"bic", "account"}
    assert stored_documents(organization.id) == []


def test_a_document_already_expired_is_rejected_by_the_checks_with_the_reason(api, shipper_org):
    organization, admin = shipper_org
    document_id = upload(api(admin), expires_on="2020-01-31").json()["id"]

    document = run_checks(document_id, organization.id)

    assert document.status == DocumentStatus.REJECTED
    assert "2020-01-31" in document.review_note


def test_a_number_that_differs_from_the_record_is_flagged_not_rejected(api, shipper_org):
    organization, admin = shipper_org
    document_id = upload(api(admin), number="7736050003").json()["id"]  # Gazprom's INN: valid, not theirs

    document = run_checks(document_id, organization.id)

    assert document.status == DocumentStatus.PENDING_REVIEW
    assert document.flagged_for_review is True


def test_a_tax_id_verified_for_another_organization_is_flagged_for_review(api, shipper_org, staff):
    organization, admin = shipper_org
    other = OrganizationFactory(tax_id=INN)
    other_admin = member(other)
    other_document = upload(api(other_admin)).json()["id"]
    run_checks(other_document, other.id)
    api(staff).put(f"/api/v1/kyc/documents/{other_document}/status", {"status": "approved"}, format="json")

    document = run_checks(upload(api(admin)).json()["id"], organization.id)

    assert document.flagged_for_review is True
    assert document.status == DocumentStatus.PENDING_REVIEW
    failed = [check for check in document.check_results if not check["passed"]]
    assert [check["name"] for check in failed] == ["unique_tax_id"]


def test_the_download_link_serves_the_file_and_a_tampered_one_does_not(api, shipper_org, client):
    _, admin = shipper_org
    created = upload(api(admin)).json()

    good = client.get(created["download_url"])
    tampered = client.get(created["download_url"][:-3] + "abc/")

    assert good.status_code == 200
    assert b"".join(good.streaming_content).startswith(b"%PDF")
    assert "attachment" in good["Content-Disposition"]
    assert tampered.status_code == 404


def test_an_expired_download_link_is_refused(api, shipper_org, client, settings):
    _, admin = shipper_org
    url = upload(api(admin)).json()["download_url"]
    settings.KYC_DOWNLOAD_URL_MAX_AGE = -1

    assert client.get(url).status_code == 404


def test_another_organizations_document_is_not_found(api, shipper_org):
    _, admin = shipper_org
    document_id = upload(api(admin)).json()["id"]
    stranger = member(OrganizationFactory())

    assert api(stranger).get(f"/api/v1/kyc/documents/{document_id}").status_code == 404
    assert api(stranger).get("/api/v1/kyc/documents").json()["meta"]["total"] == 0


def test_members_without_the_kyc_permission_cannot_upload(api, shipper_org):
    organization, _ = shipper_org
    shipper = member(organization, Role.SHIPPER)

    response = upload(api(shipper))

    assert response.status_code == 403
    assert stored_documents(organization.id) == []


def test_the_document_list_runs_the_same_number_of_queries_for_1_or_6_documents(
    api, shipper_org, django_assert_num_queries
):
    _, admin = shipper_org
    client = api(admin)
    upload(client)
    client.get("/api/v1/kyc/documents")

    # savepoint, user scope, user+memberships, tenant scope, page (shorter than `limit`: no
    # count), release, restore
    with django_assert_num_queries(7) as few:
        assert client.get("/api/v1/kyc/documents").json()["meta"]["total"] == 1
    expected = len(few.captured_queries)
    for _ in range(5):
        upload(client, document_type="ogrn", number=OGRN)
    with django_assert_num_queries(expected):
        assert client.get("/api/v1/kyc/documents").json()["meta"]["total"] == 6


def test_verification_status_lists_what_each_level_needs(api, shipper_org):
    _, admin = shipper_org
    upload(api(admin))

    body = api(admin).get("/api/v1/kyc/verification-status").json()

    assert body["status"] == VerificationStatus.PENDING
    basic = next(level for level in body["levels"] if level["level"] == "basic")
    assert {d["document_type"]: d["status"] for d in basic["documents"]} == {"inn": "checking", "ogrn": "missing"}
    assert [level["level"] for level in body["levels"]] == ["basic", "enhanced", "premium"]
