"""Probable duplicates across platforms: the same customer, items and amount within the window are
flagged for staff review (never merged); staff confirm or dismiss each once."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.errors import InvalidStateTransition
from apps.integrations import services
from apps.integrations.models import DuplicateFlag, DuplicateStatus, PlatformOrderLink
from apps.orders.models import Order
from tests.integrations import shopee_support
from tests.integrations.test_shopify import connect, make_shop

pytestmark = pytest.mark.usefixtures("integration_settings")


def test_the_same_purchase_on_two_platforms_is_flagged_not_merged(committed, platform_sandbox, seller):
    shopify = make_shop(platform_sandbox, count=3)
    shopee = shopee_support.add_shop(platform_sandbox, count=3)
    twin_id, twin = next(iter(shopify.orders.items()))
    copied = next(iter(shopee.orders.values()))
    # The Shopee order is the Shopify one bought again: the same phone (written differently),
    # the same items and total, an hour later.
    copied.items = copy.deepcopy(twin.items)
    for item in copied.items:
        item.currency = copied.currency = twin.currency
    copied.shipping_fee = twin.shipping_fee
    copied.customer_phone = "0" + twin.customer_phone.removeprefix("+62")
    copied.address = {**copied.address, "phone": copied.customer_phone}
    copied.created_at = twin.created_at + timedelta(hours=1)
    copied.updated_at = max(copied.updated_at, copied.created_at)
    shopee.put(copied)
    # A third order of the same customer with other items is no duplicate.
    other = list(shopify.orders.values())[1]
    other.customer_phone = twin.customer_phone
    other.items = copy.deepcopy(twin.items[:1])
    other.items[0].quantity += 7

    for configuration in (connect(seller, shopify), shopee_support.connect(seller, shopee)):
        run = services.configuration_sync(
            configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL"
        )
        assert run.status == "SUCCEEDED", run.error
    organization = seller[0]
    with tenant_scope(organization.id):
        flag = DuplicateFlag.objects.get()
        pair = {flag.link.external_id, flag.other_link.external_id}
        assert pair == {twin_id, copied.order_id}
        assert flag.status == DuplicateStatus.OPEN
        assert Order.objects.count() == 6 and PlatformOrderLink.objects.count() == 6  # nothing merged
    # A re-sync flags nothing more.
    services.configuration_sync(
        configuration_id=configuration.id, organization_id=organization.id, trigger="MANUAL", full=True
    )
    with tenant_scope(organization.id):
        assert DuplicateFlag.objects.count() == 1
    staff_id = seller[1].id
    with system_scope(reason="test: staff review"):
        reviewed = services.duplicate_review(flag_id=flag.id, reviewer_id=staff_id, status="NOT_DUPLICATE")
        assert reviewed.status == DuplicateStatus.NOT_DUPLICATE and reviewed.reviewed_at <= timezone.now()
        with pytest.raises(InvalidStateTransition):
            services.duplicate_review(flag_id=flag.id, reviewer_id=staff_id, status="DUPLICATE")
