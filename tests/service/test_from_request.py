"""A service request from a device's public page becomes a PENDING service order of the device's
owner (through the outbox, once however often the event is delivered), when the owner has expert
services on."""

from __future__ import annotations

import pytest

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.core.services import outbox_relay
from apps.passports import services as passport_services
from apps.service.models import ServiceOrder

pytestmark = pytest.mark.django_db


def _request_from_the_public_page(device):
    return passport_services.service_request_submit_public(
        code=device.code,
        data=passport_services.ServiceRequestInput(
            description="Loud grinding noise since Monday", contact_name="Oleg", contact_phone="+7 900 000 00 00"
        ),
    )


def test_a_public_service_request_becomes_a_pending_service_order(device, customer_organization):
    request = _request_from_the_public_page(device)
    outbox_relay(organization_id=customer_organization.id)
    with tenant_scope(customer_organization.id):
        order = ServiceOrder.objects.get(service_request_id=request.id)
    assert (order.status, order.passport_id, order.required_skill) == ("PENDING", device.id, "EL-MOT")
    assert (order.latitude, order.longitude) == (device.latitude, device.longitude)
    assert "Loud grinding noise" in order.description and "Oleg" in order.description


def test_a_redelivered_request_event_makes_one_order(device, customer_organization):
    request = _request_from_the_public_page(device)
    outbox_relay(organization_id=customer_organization.id)
    with system_scope(reason="test: deliver the event again"):
        OutboxEvent.objects.filter(event_type="passport.service_requested").update(published_at=None)
    outbox_relay(organization_id=customer_organization.id)
    with tenant_scope(customer_organization.id):
        assert ServiceOrder.objects.filter(service_request_id=request.id).count() == 1


def test_without_expert_services_the_request_stays_a_request(device, customer_organization):
    from apps.tenancy.models import OrganizationFeature
    from apps.tenancy.services import feature_cache_forget

    with system_scope(reason="test: switch expert services off"):
        OrganizationFeature.objects.filter(organization=customer_organization, name="expert_services").update(
            is_enabled=False
        )
    feature_cache_forget(organization_id=customer_organization.id)
    _request_from_the_public_page(device)
    outbox_relay(organization_id=customer_organization.id)
    with tenant_scope(customer_organization.id):
        assert not ServiceOrder.objects.exists()
