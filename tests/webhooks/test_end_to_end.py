"""The whole path with a real Celery worker: an event committed to the outbox is relayed,
fanned out and sent to a receiver that verifies it with the documented recipe; the API's ping
goes out the same way."""

from __future__ import annotations

import pytest

from apps.core.context import tenant_scope
from apps.core.services import outbox_publish
from apps.tenancy.events import OrganizationUpdated
from tests.factories import OrganizationFactory, member
from tests.support import wait_until

pytestmark = pytest.mark.usefixtures("celery_worker")

URL = "/api/v1/webhooks/endpoints"


def test_a_committed_event_reaches_the_receiver_through_the_worker(api, receiver):
    # Given an organization admin who registered an endpoint through the API
    organization = OrganizationFactory()
    client = api(member(organization))
    created = client.post(URL, {"url": receiver.url(), "event_types": ["organization.*"]}, format="json").json()

    # When the organization's event commits
    with tenant_scope(organization.id):
        event = outbox_publish(OrganizationUpdated(organization_id=organization.id, changed_fields=["name"]))

    # Then the worker relays it, fans it out and sends it: signed, once
    assert wait_until(lambda: len(receiver.received) >= 1, timeout=30), "nothing arrived"
    [request] = receiver.received
    assert request.headers["manifest-event-id"] == str(event.id)
    assert request.verifies_with(created["secret"])
    log = lambda: client.get(f"{URL}/{created['id']}/deliveries").json()["data"]  # noqa: E731
    assert wait_until(lambda: log() and log()[0]["status"] == "delivered", timeout=15)
    assert len(receiver.received) == 1


def test_a_ping_from_the_api_reaches_the_receiver(api, receiver):
    organization = OrganizationFactory()
    client = api(member(organization))
    created = client.post(URL, {"url": receiver.url(), "event_types": ["*"]}, format="json").json()

    ping = client.post(f"{URL}/{created['id']}/ping").json()

    assert wait_until(lambda: len(receiver.received) >= 1, timeout=30), "the ping did not arrive"
    assert receiver.received[0].headers["manifest-event-type"] == "webhook.ping"
    assert receiver.received[0].headers["manifest-delivery-id"] == ping["id"]
    assert receiver.received[0].verifies_with(created["secret"])
    detail = lambda: client.get(f"/api/v1/webhooks/deliveries/{ping['id']}").json()  # noqa: E731
    assert wait_until(lambda: detail()["status"] == "delivered", timeout=15)
    assert detail()["attempts"][0]["status_code"] == 200
