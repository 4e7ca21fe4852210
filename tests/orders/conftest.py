"""A forwarder organization (parcel forwarding on), its members, and a warehouse."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter

from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.orders import services
from apps.tenancy.roles import Role
from tests.factories import FeatureFactory, OrganizationFactory, member

ADDRESS = {
    "name": "Anna Petrova",
    "line1": "Lenina 1",
    "line2": "",
    "city": "Kazan",
    "postal_code": "420000",
    "country": "ru",
    "phone": "+7 843 123 45 67",
}


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_file(name="invoice.pdf", data=None, content_type="application/pdf"):
    return SimpleUploadedFile(name, pdf_bytes() if data is None else data, content_type=content_type)


@pytest.fixture
def forwarder():
    """Parcel Bridge: both purchase kinds on; an admin, a customer, a purchase agent,
    warehouse staff and a manager; one warehouse."""
    organization = OrganizationFactory(name="Parcel Bridge")
    FeatureFactory(organization=organization, name="assisted_purchase")
    FeatureFactory(organization=organization, name="self_purchase")
    people = {
        "org": organization,
        "admin": member(organization, Role.ORG_ADMIN),
        "customer": member(organization, Role.CUSTOMER),
        "agent": member(organization, Role.PURCHASE_AGENT),
        "staff": member(organization, Role.WAREHOUSE_STAFF),
        "manager": member(organization, Role.WAREHOUSE_MANAGER),
    }
    with tenant_scope(organization.id, user_id=people["admin"].id):
        people["warehouse"] = services.warehouse_create(
            organization_id=organization.id,
            actor=Actor(user_id=people["admin"].id),
            data={"name": "Hamburg hub", "code": "ham-1", "country": "DE", "city": "Hamburg", "address_line1": "Kai 1"},
        )
    return people
