"""From the outbox to deliveries: the matching active endpoints of the acting organization and
of the parties, once per endpoint and event however often the event is relayed."""

from __future__ import annotations

import json
import uuid

import pytest
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery
from tests.factories import OrganizationFactory
from tests.webhooks.conftest import endpoint_for
from tests.webhooks.events import order_created

pytestmark = pytest.mark.django_db


def _deliveries(organization, event) -> dict:
    with tenant_scope(organization.id):
        return {
            delivery.endpoint_id: delivery
            for delivery in WebhookDelivery.objects.filter(event_id=event.id).select_related("endpoint")
        }


def test_an_event_reaches_the_matching_endpoints_of_the_actor_and_of_the_parties():
    # Given the acting organization A, a party B and a stranger C, with endpoints of each
    acting, party, stranger = OrganizationFactory(), OrganizationFactory(), OrganizationFactory()
    orders, _ = endpoint_for(acting, "https://a.example.test/orders", event_types=["order.*"])
    endpoint_for(acting, "https://a.example.test/escrow", event_types=["escrow.*"])
    switched_off, _ = endpoint_for(acting, "https://a.example.test/off", event_types=["*"])
    with tenant_scope(acting.id):
        services.endpoint_update(
            actor=Actor(user_id=None, organization_id=acting.id),
            endpoint_id=switched_off.id,
            data={"is_active": False},
        )
    partys, _ = endpoint_for(party, "https://b.example.test/in", event_types=["order.created"])
    endpoint_for(stranger, "https://c.example.test/in", event_types=["*"])

    # When A publishes an order.created naming B as the other party, and it is relayed
    event = order_created(acting, parties=[party])

    # Then A's order endpoint and B's get one delivery each, nobody else
    assert set(_deliveries(acting, event)) == {orders.id}
    assert set(_deliveries(party, event)) == {partys.id}
    assert _deliveries(stranger, event) == {}
    body = json.loads(_deliveries(party, event)[partys.id].body)
    assert body["id"] == str(event.id) and body["type"] == "order.created"
    assert body["organization_id"] == str(acting.id) and body["data"] == event.payload
    assert body["created_at"] == event.created_at.isoformat()


def test_a_party_delivery_stays_hidden_from_the_acting_organization():
    acting, party = OrganizationFactory(), OrganizationFactory()
    endpoint_for(party, "https://b.example.test/in")

    event = order_created(acting, parties=[party])

    with tenant_scope(acting.id):
        assert not WebhookDelivery.objects.filter(event_id=event.id).exists()
    assert len(_deliveries(party, event)) == 1


def test_relaying_the_same_event_again_creates_no_second_delivery():
    acting, party = OrganizationFactory(), OrganizationFactory()
    endpoint_for(acting, "https://a.example.test/in")
    endpoint_for(party, "https://b.example.test/in")
    event = order_created(acting, parties=[party])

    with tenant_scope(acting.id):
        again = services.deliveries_fan_out(event=event)
        and_again = services.deliveries_fan_out(event=event)

    assert again == [] and and_again == []
    assert len(_deliveries(acting, event)) == 1 and len(_deliveries(party, event)) == 1


def test_an_endpoint_without_a_match_gets_nothing():
    acting = OrganizationFactory()
    endpoint_for(acting, "https://a.example.test/in", event_types=["dispute.*", "escrow.funded"])

    event = order_created(acting)

    assert _deliveries(acting, event) == {}


def test_a_racing_fan_out_is_absorbed_by_the_unique_delivery_per_endpoint_and_event():
    # Given a party's delivery already made (by a relay that won the race)
    acting, party = OrganizationFactory(), OrganizationFactory()
    partys, _ = endpoint_for(party, "https://b.example.test/in")
    event = order_created(acting, parties=[party])
    [existing] = _deliveries(party, event).values()

    # When the loser inserts the same (endpoint, event) from the acting organization's scope,
    # where row-level security hides the winner's row
    with tenant_scope(acting.id):
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    organization_id=party.id, endpoint_id=partys.id, event_id=event.id, event_type="x", body="{}"
                )
            ],
            ignore_conflicts=True,
        )

    # Then nothing failed and the party still has the one delivery
    assert list(_deliveries(party, event).values()) == [existing]


def test_an_event_naming_an_empty_party_still_reaches_the_acting_organization():
    acting = OrganizationFactory()
    endpoint_for(acting, "https://a.example.test/in")

    class Event:
        id = uuid.uuid4()
        organization_id = acting.id
        event_type = "order.created"
        payload = {"party_organization_ids": [str(acting.id), None, ""]}
        created_at = timezone.now()

    with tenant_scope(acting.id):
        created = services.deliveries_fan_out(event=Event)

    assert len(created) == 1
