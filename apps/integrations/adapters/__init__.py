"""The adapter of each platform, and the one way to get one for a shop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from apps.integrations.adapters.base import PlatformAdapter

ADAPTERS = {
    "shopify": "apps.integrations.adapters.shopify.ShopifyAdapter",
    "shopee": "apps.integrations.adapters.shopee.ShopeeAdapter",
    "lazada": "apps.integrations.adapters.lazada.LazadaAdapter",
    "tiktok_shop": "apps.integrations.adapters.tiktok_shop.TikTokShopAdapter",
}


def adapter_class(platform: str) -> type[PlatformAdapter]:
    return import_string(ADAPTERS[platform])


def adapter_for(*, platform: str, shop_id: str, credentials: Mapping[str, Any], http=None) -> PlatformAdapter:
    """The platform's adapter for one shop, pointed where settings say the platform answers."""
    options = settings.INTEGRATIONS["PLATFORMS"][platform]
    return adapter_class(platform)(shop_id=shop_id, credentials=credentials, options=options, http=http)
