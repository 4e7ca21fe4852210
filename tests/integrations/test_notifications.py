"""Who hears of a failing shop: when the circuit breaker pauses it (`sync.failed` with paused=true),
the organization's admins are told in the app and by e-mail; a failed run that does not pause the
shop tells nobody (the sync log shows it). Events come from real syncs against the sandbox and are
relayed as the outbox relay hands them to the fan-out; the e-mail goes out through the sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope, user_scope
from apps.core.models import OutboxEvent
from apps.notifications import services as notifications
from apps.notifications.models import Delivery, Notification
from apps.tenancy.roles import Role
from tests.factories import member
from tests.integrations.api_support import connect, shopify_shop, sync
from tests.integrations.conftest import new_shop_id

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("integration_settings")]

PAUSED = "integration.sync_paused"


@pytest.fixture
def failing(settings, seller, platform_sandbox):
    """A connected shop whose platform answers 503 to every order read; two failed runs pause it."""
    settings.INTEGRATIONS = {**settings.INTEGRATIONS, "CIRCUIT_FAILURES": 2, "REQUEST_ATTEMPTS": 1}
    shop = shopify_shop(platform_sandbox, count=2)
    configuration = connect(seller, shop)
    platform_sandbox.fault("shopify", shop.shop_id, 503, count=50, path="orders.json")
    return shop, configuration


@pytest.fixture
def people(seller):
    organization, admin, _ = seller
    return {
        "admin": admin,
        "second admin": member(organization, Role.ORG_ADMIN),
        "operator": member(organization, Role.OPERATOR),
        "customer service": member(organization, Role.CUSTOMER_SERVICE),
    }


def relay(run) -> tuple[dict, int]:
    """Hand the run's sync.failed event to the fan-out, as the relay does: its payload, and how
    many notifications it wrote."""
    with tenant_scope(run.organization_id):
        row = OutboxEvent.objects.get(event_type="sync.failed", payload__run_id=str(run.id))
        return row.payload, notifications.event_fan_out(event=row)


def told(people: dict) -> dict[str, list[Notification]]:
    heard = {}
    for name, user in people.items():
        with user_scope(user.id):
            found = list(Notification.objects.filter(user=user))
        if found:
            heard[name] = found
    return heard


def test_a_failed_run_that_does_not_pause_the_shop_tells_nobody(failing, people):
    _, configuration = failing

    run = sync(configuration)

    payload, written = relay(run)
    assert (payload["paused"], payload["consecutive_failures"], written) == (False, 1, 0)
    assert told(people) == {}


def test_a_paused_shop_tells_the_organizations_admins_in_the_app_and_by_email(failing, people, mailoutbox):
    shop, configuration = failing
    relay(sync(configuration))

    payload, written = relay(sync(configuration))

    assert (payload["paused"], payload["error_code"], written) == (True, "PLATFORM_UNAVAILABLE", 2)
    heard = told(people)
    assert sorted(heard) == ["admin", "second admin"]
    subject = "Shop Demo shop paused after 2 failed syncs: PLATFORM_UNAVAILABLE"
    for name in heard:
        [notification] = heard[name]
        assert (notification.type, notification.title, notification.in_app) == (PAUSED, subject, True)
    admin = people["admin"]
    with user_scope(admin.id):
        deliveries = {delivery.channel: delivery for delivery in Delivery.objects.filter(user=admin)}
    assert set(deliveries) == {"email"}

    sent = notifications.deliveries_send(channel="email", items=[[str(admin.id), str(deliveries["email"].id)]])

    assert sent == {"sent": 1}
    [mail] = [message for message in mailoutbox if message.to == [admin.email]]
    assert mail.subject == subject
    assert "after 2 failed syncs in a row: PLATFORM_UNAVAILABLE" in mail.body and "Sync now" in mail.body
    for secret in shop.credentials.values():
        assert secret not in mail.subject + mail.body


def test_of_a_platform_orders_moves_only_a_cancellation_is_told(seller, platform_sandbox, people):
    # given two paid Shopify orders imported (confirmed here)
    now = timezone.now()
    generate = {"count": 2, "seed": 5, "statuses": ["paid/unfulfilled"], "start": (now - timedelta(days=1)).isoformat()}
    shop = platform_sandbox.add_shop("shopify", f"{new_shop_id('n')}.myshopify.com", generate=generate)
    configuration = connect(seller, shop)
    sync(configuration)
    shipped, cancelled = sorted(shop.orders)
    # when the platform ships one and cancels the other, and the next sync follows
    platform_sandbox.update_orders(
        "shopify",
        shop.shop_id,
        [{"order_id": shipped, "status": "paid/fulfilled"}, {"order_id": cancelled, "status": "cancelled"}],
    )
    sync(configuration)
    with tenant_scope(configuration.organization_id):  # as the relay hands them to the fan-out
        moves = OutboxEvent.objects.filter(event_type="order.status_changed")
        written = {row.payload["to_status"]: notifications.event_fan_out(event=row) for row in moves}

    # then the shipment tells nobody, the cancellation the seller's operations people (its admins
    # and customer service; an operator is not one of the order roles told)
    assert written == {"in_transit": 0, "cancelled": 3}
    heard = told(people)
    assert sorted(heard) == ["admin", "customer service", "second admin"]
    assert {notification.type for found in heard.values() for notification in found} == {"order.status_changed"}
