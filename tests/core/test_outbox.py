"""The outbox: a change and its event commit together, or neither does."""

import pytest
from django.db import transaction

from apps.core import services
from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.events import subscribe
from apps.core.models import OutboxEvent
from apps.tenancy import events
from apps.tenancy.models import Organization
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db


def outbox_rows(organization_id):
    with system_scope(reason="test: read outbox", audit=False):
        return list(OutboxEvent.objects.filter(organization_id=organization_id).values_list("event_type", flat=True))


def test_service_change_and_its_event_are_written_in_one_transaction(api):
    organization = OrganizationFactory(name="Before")
    admin = member(organization)

    api(admin).patch(f"/api/v1/organizations/{organization.id}", {"name": "After"}, format="json")

    assert outbox_rows(organization.id) == ["organization.updated"]


def test_a_rolled_back_change_leaves_no_event(db):
    organization = OrganizationFactory(name="Before")
    admin = member(organization)

    with pytest.raises(RuntimeError), tenant_scope(organization.id, user_id=admin.id), transaction.atomic():
        from apps.tenancy.services import organization_update

        organization_update(
            organization=organization,
            actor=Actor(user_id=admin.id, organization_id=organization.id),
            data={"name": "After"},
        )
        raise RuntimeError("fails after the service call")

    assert outbox_rows(organization.id) == []
    with system_scope(reason="test", audit=False):
        assert Organization.objects.get(id=organization.id).name == "Before"


def test_relay_delivers_each_event_once_and_stamps_it(db):
    organization = OrganizationFactory()
    delivered = []
    subscribe("test.*", lambda event: delivered.append(event.id), name="test.collect")
    with tenant_scope(organization.id):
        row = services.outbox_publish(events.OrganizationCreated(organization_id=organization.id, name="x"))
        row.event_type = "test.created"
        row.save(update_fields=["event_type"])

    assert services.outbox_relay(organization_id=organization.id) == 1
    assert services.outbox_relay(organization_id=organization.id) == 0
    assert delivered == [row.id]
    with tenant_scope(organization.id):
        assert OutboxEvent.objects.get(id=row.id).published_at is not None


def test_a_failing_handler_leaves_the_event_for_the_next_relay(db):
    organization = OrganizationFactory()
    calls = []

    def flaky(event):
        calls.append(event.id)
        if len(calls) == 1:
            raise ConnectionError("consumer down")

    subscribe("flaky.*", flaky, name="test.flaky")
    with tenant_scope(organization.id):
        row = services.outbox_publish(events.OrganizationCreated(organization_id=organization.id, name="x"))
        row.event_type = "flaky.event"
        row.save(update_fields=["event_type"])

    assert services.outbox_relay(organization_id=organization.id) == 0
    assert services.outbox_relay(organization_id=organization.id) == 1
    with tenant_scope(organization.id):
        event = OutboxEvent.objects.get(id=row.id)
    assert event.attempts == 2
    assert "consumer down" in event.last_error
