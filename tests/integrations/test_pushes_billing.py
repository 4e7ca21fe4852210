"""Fulfilment pushes that fail are retried on schedule or given up with the reason; billing records
follow the platform's payment and cancellation of an order, once each."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.integrations import services, tasks
from apps.integrations.models import BillingRecord, PlatformOrderLink, PushState, StatusPush
from apps.integrations.services.pushes import status_push_create
from tests.beat import run_beat_job
from tests.integrations.test_shopify import connect, make_shop

pytestmark = pytest.mark.usefixtures("integration_settings")


def synced_shop(platform_sandbox, seller, statuses, count=1):
    shop = make_shop(platform_sandbox, count=count)
    for index, order in enumerate(shop.orders.values()):  # each status in turn, not drawn: every one present
        order.status = statuses[index % len(statuses)]
    configuration = connect(seller, shop)
    services.configuration_sync(
        configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL"
    )
    return shop, configuration


def shipped_push(seller):
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        link = PlatformOrderLink.objects.get()
        services.platform_order_ship(actor=actor, order_id=link.order_id, tracking_number="T123", carrier="JNE")
        return status_push_create(
            organization_id=organization.id, order_id=link.order_id, to_status="in_transit", event_id=uuid.uuid4()
        )


def test_a_push_the_platform_cannot_take_now_is_retried_when_due(committed, platform_sandbox, seller):
    shop, _ = synced_shop(platform_sandbox, seller, ["paid/unfulfilled"])
    push = shipped_push(seller)
    organization = seller[0]
    platform_sandbox.fault("shopify", shop.shop_id, 503, count=10, path="fulfillment")
    assert services.status_push_send(push_id=push.id, organization_id=organization.id) == PushState.PENDING
    with tenant_scope(organization.id):
        push.refresh_from_db()
    assert push.attempts == 1 and "PLATFORM_UNAVAILABLE" in push.last_error
    assert push.next_attempt_at > timezone.now()
    assert run_beat_job(tasks.integrations_status_pushes_due) == []  # not due yet
    with tenant_scope(organization.id):
        StatusPush.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    platform_sandbox.state.shop("shopify", shop.shop_id).faults.clear()
    assert run_beat_job(tasks.integrations_status_pushes_due) == [PushState.SENT]
    assert [row["tracking_number"] for row in platform_sandbox.fulfilments("shopify", shop.shop_id)] == ["T123"]


def test_a_push_the_platform_refuses_fails_with_the_reason(committed, platform_sandbox, seller):
    shop, _ = synced_shop(platform_sandbox, seller, ["paid/unfulfilled"])
    push = shipped_push(seller)
    platform_sandbox.fault("shopify", shop.shop_id, 422, count=1, path="fulfillments.json")
    assert services.status_push_send(push_id=push.id, organization_id=seller[0].id) == PushState.FAILED
    with tenant_scope(seller[0].id):
        push.refresh_from_db()
    assert push.next_attempt_at is None and "REJECTED" in push.last_error


def test_billing_records_follow_payment_and_cancellation_once_each(committed, platform_sandbox, seller):
    shop, configuration = synced_shop(
        platform_sandbox, seller, ["pending/unfulfilled", "paid/unfulfilled", "cancelled"], count=12
    )
    organization = seller[0]

    def kinds():
        with tenant_scope(organization.id):
            return {
                link.external_id: sorted(
                    (record.kind, record.status) for record in BillingRecord.objects.filter(link=link)
                )
                for link in PlatformOrderLink.objects.all()
            }

    before = kinds()
    by_status = {order_id: order.status for order_id, order in shop.orders.items()}
    for order_id, records in before.items():
        expected = {
            "pending/unfulfilled": [("INVOICE", "ISSUED")],
            "paid/unfulfilled": [("INVOICE", "ISSUED"), ("PAYMENT", "ISSUED")],
            "cancelled": [("INVOICE", "VOID")],
        }[by_status[order_id]]
        assert records == expected, order_id
    pending = next(order_id for order_id, status in by_status.items() if status == "pending/unfulfilled")
    paid = next(order_id for order_id, status in by_status.items() if status == "paid/unfulfilled")
    platform_sandbox.update_orders(
        "shopify",
        shop.shop_id,
        [{"order_id": pending, "status": "paid/unfulfilled"}, {"order_id": paid, "status": "cancelled"}],
    )
    for _ in range(2):  # the second sync re-reads both (the overlap) and writes nothing more
        services.configuration_sync(
            configuration_id=configuration.id, organization_id=organization.id, trigger="MANUAL"
        )
    after = kinds()
    assert after[pending] == [("INVOICE", "ISSUED"), ("PAYMENT", "ISSUED")]
    assert after[paid] == [("INVOICE", "ISSUED"), ("PAYMENT", "ISSUED"), ("REFUND", "ISSUED")]
    with tenant_scope(organization.id):
        numbers = list(BillingRecord.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
