"""Document templates and generated documents in the back-office."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.documents import services
from apps.documents.models import DocumentTemplate
from tests.documents.conftest import generated_and_rendered
from tests.factories import OrganizationFactory, member
from tests.support import admin_client as logged_in

pytestmark = pytest.mark.django_db


def test_an_org_admin_creates_a_template_and_sees_its_preview(parties):
    # given the carrier's organization admin in the back-office
    client = logged_in(parties["carrier_admin"])
    # when they add a CMR template
    response = client.post(
        reverse("admin:documents_documenttemplate_add"),
        {
            "document_type": "cmr",
            "language": "ru",
            "header_text": "Volga header",
            "footer_text": "",
            "visible_fields": ["sku"],
        },
    )
    # then it is stored for their organization, through the service, and its page shows a rendered preview
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_scope(parties["carrier_org"].id):
        template = DocumentTemplate.objects.get()
    assert template.organization_id == parties["carrier_org"].id
    assert template.visible_fields == ["sku"]
    page = client.get(reverse("admin:documents_documenttemplate_change", args=[template.pk]))
    assert page.status_code == 200
    assert "data:image/png;base64," in page.content.decode()


def test_another_org_admin_does_not_see_the_template(parties):
    with tenant_scope(parties["carrier_org"].id, user_id=parties["carrier_admin"].id):
        services.template_create(
            organization_id=parties["carrier_org"].id,
            actor=Actor(user_id=parties["carrier_admin"].id, organization_id=parties["carrier_org"].id),
            document_type="cmr",
            values={},
        )
    other = OrganizationFactory()
    page = logged_in(member(other)).get(reverse("admin:documents_documenttemplate_changelist"))
    assert page.status_code == 200
    assert "/change/" not in page.content.decode()  # no row to open


def test_generated_documents_are_read_only_and_visible_to_both_parties(api, parties, order):
    body = generated_and_rendered(api(parties["carrier"]), order, parties["carrier_org"])
    shipper_admin = member(parties["shipper_org"])
    client = logged_in(shipper_admin)
    listing = client.get(reverse("admin:documents_generateddocument_changelist"))
    assert order.number in listing.content.decode()
    page = client.get(reverse("admin:documents_generateddocument_change", args=[body["id"]]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
