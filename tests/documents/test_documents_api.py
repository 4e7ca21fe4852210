# Russian text is the point here: Cyrillic letters that look Latin are meant.
"""Documents of an order through the API: generate each type, versions, sign and verify, the
frozen signed version, templates, who may see what, and the public verification page."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from apps.documents.models import DocumentType
from tests.documents.conftest import (
    CARRIER_NAME,
    SHIPPER_NAME,
    download,
    generate,
    generated_and_rendered,
    pdf_text,
    render,
    stored,
)
from tests.documents.reading import qr_codes_on
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("document_type", DocumentType.values)
def test_each_document_type_is_generated_for_an_order_with_its_number_and_parties(api, parties, order, document_type):
    # given the carrier's client (carriers issue documents)
    client = api(parties["carrier"])
    # when it asks for the document
    response = generate(client, order, document_type)
    # then the request answers at once, and the worker's rendering makes it ready
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    render(response.json()["id"], parties["carrier_org"].id)
    body = client.get(f"/api/v1/documents/{response.json()['id']}").json()
    assert body["status"] == "ready"
    assert body["version"] == 1
    pdf = download(client, body)
    text = pdf_text(pdf)
    assert order.number in text
    assert SHIPPER_NAME in text  # Cyrillic, from the embedded font
    assert CARRIER_NAME in text or document_type not in ("cmr", "bill_of_lading")
    assert "Подшипник" in text
    # and the QR code, read back from the rendered first page, leads to its verification page
    assert qr_codes_on(pdf) == [body["verification_url"]]


def test_regenerating_makes_version_two_and_version_one_stays_readable(api, parties, order):
    client = api(parties["carrier"])
    first = generated_and_rendered(client, order, parties["carrier_org"])
    first_pdf = download(client, first)
    second = generated_and_rendered(client, order, parties["carrier_org"])
    assert second["version"] == 2
    assert second["id"] != first["id"]
    again = client.get(f"/api/v1/documents/{first['id']}").json()
    assert again["status"] == "ready"
    assert download(client, again) == first_pdf
    listed = client.get(f"/api/v1/documents?order_id={order.id}").json()
    assert [row["version"] for row in listed["data"]] == [2, 1]


def test_signed_document_verifies_and_fails_after_one_stored_byte_changes(api, parties, order):
    client = api(parties["carrier"])
    body = generated_and_rendered(client, order, parties["carrier_org"])
    # when the carrier signs it
    signed = client.post(f"/api/v1/documents/{body['id']}/sign")
    assert signed.status_code == 200, signed.content
    assert signed.json()["signature"]["signed_by"] == str(parties["carrier"].id)
    # then the shipper, the other party, verifies it
    shipper = api(parties["shipper"])
    verified = shipper.get(f"/api/v1/documents/{body['id']}/verify").json()
    assert verified["valid"] is True, verified
    assert verified["sha256"] == signed.json()["signature"]["signature_sha256"]
    # when one byte of the stored signed file changes
    document = stored(body["id"])
    with document.signed_file.open("rb") as handle:
        data = bytearray(handle.read())
    position = len(data) // 3
    data[position] = (data[position] + 1) % 256
    path = document.signed_file.name
    document.signed_file.storage.delete(path)
    document.signed_file.storage.save(path, ContentFile(bytes(data)))
    # then verification fails
    after = client.get(f"/api/v1/documents/{body['id']}/verify").json()
    assert after["valid"] is False
    assert after["matches_record"] is False


def test_a_signed_document_is_neither_regenerated_over_nor_signed_again(api, parties, order):
    admin = api(parties["carrier_admin"])
    body = generated_and_rendered(admin, order, parties["carrier_org"])
    assert admin.post(f"/api/v1/documents/{body['id']}/sign").status_code == 200
    again = admin.post(f"/api/v1/documents/{body['id']}/sign")
    assert again.status_code == 422
    assert again.json()["error_code"] == "INVALID_STATE_TRANSITION"
    regenerate = generate(admin, order)
    assert regenerate.status_code == 422
    assert regenerate.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_a_pending_document_cannot_be_signed(api, parties, order):
    admin = api(parties["carrier_admin"])
    document_id = generate(admin, order).json()["id"]
    response = admin.post(f"/api/v1/documents/{document_id}/sign")
    assert response.status_code == 422
    assert client_detail_has_no_download(admin, document_id)


def client_detail_has_no_download(client, document_id) -> bool:
    return client.get(f"/api/v1/documents/{document_id}").json()["download_url"] is None


def _png(color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 30), color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_templates_change_the_output(api, parties, order):
    # (the commercial invoice: on a packing list, a line's marks show its number in a column of their own)
    admin = api(parties["carrier_admin"])
    default = pdf_text(
        download(admin, generated_and_rendered(admin, order, parties["carrier_org"], "commercial_invoice"))
    )
    created = admin.post(
        "/api/v1/documents/templates",
        {
            "document_type": "commercial_invoice",
            "language": "ru",
            "header_text": "Шапка Балтийских Грузов",
            "footer_text": "Footer of Baltic",
            "visible_fields": [],
            "logo_png_base64": base64.b64encode(_png("red")).decode(),
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["has_logo"] is True
    dressed = pdf_text(
        download(admin, generated_and_rendered(admin, order, parties["carrier_org"], "commercial_invoice"))
    )
    assert "Шапка Балтийских Грузов" in dressed and "Footer of Baltic" in dressed
    assert "BRG-6204" in default and "BRG-6204" not in dressed  # the SKU column is hidden
    updated = admin.put(
        f"/api/v1/documents/templates/{created.json()['id']}",
        {"header_text": "New header", "visible_fields": ["sku"]},
        format="json",
    )
    assert updated.status_code == 200, updated.content
    third = pdf_text(
        download(admin, generated_and_rendered(admin, order, parties["carrier_org"], "commercial_invoice"))
    )
    assert "New header" in third and "BRG-6204" in third


def test_a_logo_that_is_not_a_png_is_refused(api, parties):
    admin = api(parties["carrier_admin"])
    response = admin.post(
        "/api/v1/documents/templates",
        {"document_type": "cmr", "logo_png_base64": base64.b64encode(b"GIF89a not a png").decode()},
        format="json",
    )
    assert response.status_code == 400


def test_only_org_admins_edit_templates(api, parties):
    response = api(parties["carrier"]).post("/api/v1/documents/templates", {"document_type": "cmr"}, format="json")
    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_the_other_party_sees_the_document_and_strangers_get_404(api, parties, order):
    client = api(parties["carrier"])
    body = generated_and_rendered(client, order, parties["carrier_org"])
    shipper = api(parties["shipper"])
    assert shipper.get(f"/api/v1/documents/{body['id']}").status_code == 200
    assert shipper.post(f"/api/v1/documents/{body['id']}/sign").status_code == 403  # only the issuer signs
    stranger_org = OrganizationFactory()
    stranger = api(member(stranger_org))
    assert stranger.get(f"/api/v1/documents/{body['id']}").status_code == 404
    assert stranger.get(f"/api/v1/documents/{body['id']}/verify").status_code == 404
    assert stranger.post(f"/api/v1/documents/{body['id']}/sign").status_code == 404
    assert generate(stranger, order).status_code == 404
    assert stranger.get("/api/v1/documents").json()["meta"]["total"] == 0


def test_templates_of_another_organization_are_not_found(api, parties):
    admin = api(parties["carrier_admin"])
    template_id = admin.post("/api/v1/documents/templates", {"document_type": "cmr"}, format="json").json()["id"]
    other_admin = api(member(OrganizationFactory()))
    response = other_admin.put(f"/api/v1/documents/templates/{template_id}", {"header_text": "x"}, format="json")
    assert response.status_code == 404
    assert other_admin.get("/api/v1/documents/templates").json()["meta"]["total"] == 0


def test_the_public_verification_page_shows_the_document_but_not_its_content(api, parties, order):
    admin = api(parties["carrier_admin"])
    body = generated_and_rendered(admin, order, parties["carrier_org"])
    admin.post(f"/api/v1/documents/{body['id']}/sign")
    path = body["verification_url"].split("://", 1)[1].split("/", 1)[1]
    anonymous = api()
    page = anonymous.get(f"/{path}", HTTP_ACCEPT="application/json").json()
    assert page["signature_valid"] is True
    assert page["number"] == order.number
    assert page["sha256"] == stored(body["id"]).signature_sha256
    assert SHIPPER_NAME not in str(page) and CARRIER_NAME not in str(page)
    html = anonymous.get(f"/{path}")
    assert html.status_code == 200 and b"The signature is valid" in html.content
    assert anonymous.get(f"/{path[:-3]}xyz").status_code == 404


def test_document_list_query_count_does_not_grow_with_rows(api, parties, order, django_assert_num_queries):
    client = api(parties["carrier"])
    generated_and_rendered(client, order, parties["carrier_org"])
    # savepoint, user scope, user+memberships, tenant scope, page (shorter than `limit`: no
    # count), release, restore
    with django_assert_num_queries(7) as few:
        client.get("/api/v1/documents")
    expected = len(few.captured_queries)
    for document_type in ("packing_list", "commercial_invoice", "bill_of_lading"):
        generated_and_rendered(client, order, parties["carrier_org"], document_type)
    with django_assert_num_queries(expected):
        response = client.get("/api/v1/documents")
    assert response.json()["meta"]["total"] == 4


def test_template_list_query_count_does_not_grow_with_rows(api, parties, django_assert_num_queries):
    admin = api(parties["carrier_admin"])
    admin.post("/api/v1/documents/templates", {"document_type": "cmr"}, format="json")
    with django_assert_num_queries(7) as few:
        admin.get("/api/v1/documents/templates")
    expected = len(few.captured_queries)
    for document_type in ("packing_list", "commercial_invoice", "bill_of_lading"):
        admin.post("/api/v1/documents/templates", {"document_type": document_type}, format="json")
    with django_assert_num_queries(expected):
        response = admin.get("/api/v1/documents/templates")
    assert response.json()["meta"]["total"] == 4
