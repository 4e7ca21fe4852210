"""Helpers of the integrations API, back-office and notification tests: a Shopify sandbox shop with
orders, connected and synced through the real services, the URLs, and query counts."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.integrations import services
from apps.integrations.models import PlatformConfiguration, PlatformOrderLink
from tests.integrations.conftest import new_shop_id

BASE = "/api/v1/integrations"
CONFIGURATIONS = f"{BASE}/configurations"
PLATFORM_ORDERS = f"{BASE}/platform-orders"


def shopify_shop(platform_sandbox, count: int = 4, **spec):
    """A new Shopify sandbox shop holding `count` orders updated in the last two days."""
    shop_id = f"{new_shop_id('s')}.myshopify.com"
    now = timezone.now()
    generate = {
        "count": count,
        "seed": 11,
        "start": (now - timedelta(days=2)).isoformat(),
        "end": (now - timedelta(minutes=5)).isoformat(),
    }
    return platform_sandbox.add_shop("shopify", shop_id, generate=generate, **spec)


def connect(seller, shop, *, name: str = "Demo shop") -> PlatformConfiguration:
    """The shop connected by the seller's admin, as the API does it."""
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        return services.configuration_connect(
            actor=actor, platform="shopify", shop_id=shop.shop_id, name=name, credentials=dict(shop.credentials)
        )


def sync(configuration, **kwargs):
    """One run of the shop's sync, as the worker runs it."""
    return services.configuration_sync(
        configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL", **kwargs
    )


def synced_shop(platform_sandbox, seller, *, count: int = 4):
    """(sandbox shop, configuration): a shop connected and synced once, its orders imported."""
    shop = shopify_shop(platform_sandbox, count=count)
    configuration = connect(seller, shop)
    run = sync(configuration)
    assert run.status == "SUCCEEDED", run.error
    return shop, configuration


def links_of(organization) -> list[PlatformOrderLink]:
    with tenant_scope(organization.id):
        return list(PlatformOrderLink.objects.order_by("external_id"))


def query_count(client, url: str) -> tuple[int, dict]:
    """How many queries one GET of `url` runs, and its body."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(queries.captured_queries), response.json()
