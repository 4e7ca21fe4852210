"""KYC test set-up: files that look like real uploads, and an organization ready to verify."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter

from apps.core.context import system_scope, tenant_scope
from apps.kyc import services
from apps.kyc.models import KycDocument
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member

# Real companies (Sberbank): the check digits are right.
INN = "7707083893"
OGRN = "1027700132195"


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_file(name: str = "inn.pdf", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes() if data is None else data, content_type="application/pdf")


@pytest.fixture
def shipper_org():
    """An organization whose record carries Sberbank's numbers, with its admin."""
    organization = OrganizationFactory(tax_id=INN, registration_number=OGRN)
    return organization, member(organization, Role.ORG_ADMIN)


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def upload(client, document_type="inn", number=INN, file=None, **extra):
    data = {"document_type": document_type, "number": number, "file": file or pdf_file(), **extra}
    return client.post("/api/v1/kyc/documents", data, format="multipart")


def run_checks(document_id, organization_id) -> KycDocument:
    """What the Celery task does, in this test's transaction."""
    with tenant_scope(organization_id):
        return services.document_run_checks(document_id=document_id)


def stored_documents(organization_id=None) -> list[KycDocument]:
    with system_scope(reason="test reads KYC documents", audit=False):
        queryset = KycDocument.objects.all()
        if organization_id:
            queryset = queryset.filter(organization_id=organization_id)
        return list(queryset.order_by("created_at"))
