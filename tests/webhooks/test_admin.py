"""Webhooks in the back-office: an organization admin sees its own endpoints and deliveries,
staff every organization's; rotating (secret shown on the answer page only), pinging,
switching on and redelivering go through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.context import tenant_scope
from apps.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from apps.webhooks.signing import secret_decrypt
from tests.factories import OrganizationFactory, UserFactory, member
from tests.support import admin_client
from tests.webhooks.conftest import endpoint_for

pytestmark = pytest.mark.django_db

ENDPOINTS = "admin:webhooks_webhookendpoint_changelist"
DELIVERIES = "admin:webhooks_webhookdelivery_changelist"


def test_an_organization_admin_sees_only_its_own_endpoints_and_staff_see_all():
    ours, theirs = OrganizationFactory(), OrganizationFactory()
    endpoint_for(ours, "https://ours.example.test/in")
    endpoint_for(theirs, "https://theirs.example.test/in")
    staff = UserFactory(is_staff=True, is_superuser=True)

    listed = admin_client(member(ours)).get(reverse(ENDPOINTS)).content.decode()
    everything = admin_client(staff).get(reverse(ENDPOINTS)).content.decode()

    assert "ours.example.test" in listed and "theirs.example.test" not in listed
    assert "ours.example.test" in everything and "theirs.example.test" in everything


def test_rotating_in_the_back_office_shows_the_new_secret_on_the_answer_page_only():
    organization = OrganizationFactory()
    endpoint, old = endpoint_for(organization, "https://ours.example.test/in")
    client = admin_client(member(organization))

    response = client.post(reverse(ENDPOINTS), {"action": "rotate_secret", "_selected_action": [str(endpoint.id)]})

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    with tenant_scope(organization.id):
        new = secret_decrypt(WebhookEndpoint.objects.get(pk=endpoint.id).secret_encrypted)
    assert new != old and new in response.content.decode()
    assert new not in client.get(reverse(ENDPOINTS)).content.decode()


def test_staff_switch_a_disabled_endpoint_back_on_and_ping_it():
    organization = OrganizationFactory()
    endpoint, _ = endpoint_for(organization, "https://ours.example.test/in")
    with tenant_scope(organization.id):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            is_active=False, consecutive_failures=12, disabled_reason="12 failed attempts"
        )
    client = admin_client(UserFactory(is_staff=True, is_superuser=True))

    client.post(reverse(ENDPOINTS), {"action": "switch_on", "_selected_action": [str(endpoint.id)]})
    client.post(reverse(ENDPOINTS), {"action": "ping", "_selected_action": [str(endpoint.id)]})

    with tenant_scope(organization.id):
        switched_on = WebhookEndpoint.objects.get(pk=endpoint.pk)
        pings = list(WebhookDelivery.objects.filter(endpoint=endpoint, event_type="webhook.ping"))
    assert (switched_on.is_active, switched_on.consecutive_failures, switched_on.disabled_reason) == (True, 0, "")
    assert len(pings) == 1 and pings[0].status == DeliveryStatus.PENDING


def test_an_organization_admin_redelivers_its_delivery_and_cannot_see_anothers():
    ours, theirs = OrganizationFactory(), OrganizationFactory()
    endpoint, _ = endpoint_for(ours, "https://ours.example.test/in")
    their_endpoint, _ = endpoint_for(theirs, "https://theirs.example.test/in")
    with tenant_scope(ours.id):
        delivery = WebhookDelivery.objects.create(
            organization=ours,
            endpoint=endpoint,
            event_id=endpoint.id,
            event_type="order.created",
            body="{}",
            status=DeliveryStatus.FAILED,
        )
    with tenant_scope(theirs.id):
        their_delivery = WebhookDelivery.objects.create(
            organization=theirs,
            endpoint=their_endpoint,
            event_id=their_endpoint.id,
            event_type="order.created",
            body="{}",
        )
    client = admin_client(member(ours))

    client.post(reverse(DELIVERIES), {"action": "redeliver", "_selected_action": [str(delivery.id)]})

    with tenant_scope(ours.id):
        redelivered = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (redelivered.status, redelivered.sequence) == (DeliveryStatus.PENDING, 2)
    page = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[their_delivery.pk]))
    assert page.status_code in (302, 404)


def test_the_pages_of_an_endpoint_and_of_a_delivery_with_its_attempts_render():
    organization = OrganizationFactory()
    endpoint, secret = endpoint_for(organization, "https://ours.example.test/in")
    with tenant_scope(organization.id):
        delivery = WebhookDelivery.objects.create(
            organization=organization, endpoint=endpoint, event_id=endpoint.id, event_type="order.created", body="{}"
        )
        delivery.attempts.create(
            organization=organization, sequence=1, number=1, requested_at=delivery.created_at, status_code=502
        )
    client = admin_client(member(organization))

    endpoint_page = client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    delivery_page = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))

    assert endpoint_page.status_code == 200 and secret not in endpoint_page.content.decode()
    assert endpoint.secret_encrypted not in endpoint_page.content.decode()
    assert delivery_page.status_code == 200 and "502" in delivery_page.content.decode()
