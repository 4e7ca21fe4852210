"""Demo data of KYC for `make run` (`manage.py seed_demo`, apps.core.demo): the demo
organizations that have registration numbers (tenancy's demo gives them) pass the basic
KYC check through the services, once, as platform staff would approve them."""

from __future__ import annotations

from io import BytesIO

from apps.accounts.services import user_get_by_email
from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.kyc import services as kyc
from apps.kyc.gate import is_verified
from apps.tenancy.selectors import organization_get_by_slug

ADMIN_EMAIL = "admin@manifest.local"  # tenancy's demo platform admin
# The demo organizations that have registration numbers (made-up, with valid check digits).
VERIFIED_SLUGS = ("baltic-shippers", "volga-carriers")


def seed() -> list[str]:
    admin = user_get_by_email(email=ADMIN_EMAIL)
    with system_scope(reason="seed_demo", actor_id=admin.id):
        for slug in VERIFIED_SLUGS:
            _verify(organization_get_by_slug(slug=slug), admin.id)
    return []


def _verify(organization, admin_id):
    """Upload, check and approve the basic KYC documents, once."""
    if is_verified(organization_id=organization.id):
        return
    numbers = {"inn": organization.tax_id, "ogrn": organization.registration_number}
    staff = Actor.staff(admin_id, organization_id=organization.id)
    with tenant_scope(organization.id):
        for document_type, number in numbers.items():
            document = kyc.document_upload(
                organization_id=organization.id,
                actor=staff,
                document_type=document_type,
                upload=kyc.Upload(name=f"{document_type}.pdf", data=_demo_pdf(), content_type="application/pdf"),
                number=number,
            )
            kyc.document_run_checks(document_id=document.id)
            kyc.document_review(document_id=document.id, actor=staff, approve=True)


def _demo_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
