"""Platform integrations set-up: the four platform sandboxes on one real HTTP server per test
session (per xdist worker), settings pointing every adapter at it, and a seller organization
with platform integrations on.

Each test makes its own shop (`platform_sandbox.add_shop`, a unique shop id), so tests sharing
the server keep apart. Fixtures: platform_sandbox, integration_settings, seller."""

from __future__ import annotations

import secrets

import httpx
import pytest

from apps.core.context import tenant_scope
from apps.tenancy.models import Membership
from apps.tenancy.roles import Actor, Role
from sandboxes.platforms.server import start_server
from tests.factories import FeatureFactory, OrganizationFactory, member


def new_shop_id(prefix: str = "shop") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


class PlatformSandbox:
    """The running sandbox as a test sees it, through its own /_sandbox endpoints."""

    def __init__(self, url: str, state):
        self.url = url
        self.state = state  # the server's PlatformState, for assertions on what it holds
        self._http = httpx.Client(base_url=url, timeout=30)

    def platform_settings(self) -> dict:
        """INTEGRATIONS["PLATFORMS"] pointed at this server."""
        return {
            "shopify": {"BASE_URL": f"{self.url}/shopify/{{shop}}", "API_VERSION": "2024-07"},
            "shopee": {"BASE_URL": f"{self.url}/shopee"},
            "lazada": {"BASE_URL": f"{self.url}/lazada/rest", "AUTH_URL": f"{self.url}/lazada/auth"},
            "tiktok_shop": {"BASE_URL": f"{self.url}/tiktok_shop", "AUTH_URL": f"{self.url}/tiktok_shop/auth"},
        }

    def add_shop(self, platform: str, shop_id: str | None = None, **spec) -> dict:
        """A new shop; spec: name, credentials, token_expires_in, mask_addresses, generate={count, seed, ...}."""
        shop_id = shop_id or new_shop_id(platform)
        self._json("POST", "/_sandbox/shops", json={"platform": platform, "shop_id": shop_id, **spec})
        return self.shop(platform, shop_id)

    def shop(self, platform: str, shop_id: str):
        return self.state.shop(platform, shop_id)

    def generate(self, platform: str, shop_id: str, **spec) -> int:
        return self._json("POST", f"/_sandbox/shops/{platform}/{shop_id}/orders", json={"generate": spec})["generated"]

    def update_orders(self, platform: str, shop_id: str, changes: list[dict]) -> list[dict]:
        """Each change ({"order_id", "status", "overrides", "topic"}) updates one order now and sends its webhooks."""
        return self._json("POST", f"/_sandbox/shops/{platform}/{shop_id}/orders", json={"orders": changes})["webhooks"]

    def fault(
        self, platform: str, shop_id: str, status: int, *, count: int = 1, retry_after=None, path: str = "", body=None
    ):
        fault = {"status": status, "count": count, "retry_after": retry_after, "path": path, "body": body}
        self._json("POST", f"/_sandbox/shops/{platform}/{shop_id}/faults", json=fault)

    def expire_token(self, platform: str, shop_id: str) -> None:
        self._json("POST", f"/_sandbox/shops/{platform}/{shop_id}/token/expire", json={})

    def requests(self, platform: str, shop_id: str) -> list[dict]:
        return self._json("GET", f"/_sandbox/shops/{platform}/{shop_id}/requests")["requests"]

    def fulfilments(self, platform: str, shop_id: str) -> list[dict]:
        return self._json("GET", f"/_sandbox/shops/{platform}/{shop_id}/fulfilments")["fulfilments"]

    def webhooks(self, platform: str, shop_id: str) -> list[dict]:
        return self._json("GET", f"/_sandbox/shops/{platform}/{shop_id}/webhooks")["webhooks"]

    def _json(self, method: str, path: str, **kwargs) -> dict:
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._http.close()


@pytest.fixture(scope="session")
def platform_sandbox():
    server = start_server()
    sandbox = PlatformSandbox(server.url, server.state)
    yield sandbox
    sandbox.close()
    server.stop()


@pytest.fixture
def integration_settings(platform_sandbox, settings):
    """INTEGRATIONS pointed at the sandbox, with backoffs short enough for tests (the logic is
    the same; the seconds are not what is tested)."""
    settings.INTEGRATIONS = {
        **settings.INTEGRATIONS,
        "PLATFORMS": platform_sandbox.platform_settings(),
        "BACKOFF_BASE_SECONDS": 0.01,
        "BACKOFF_MAX_SECONDS": 0.05,
        "RETRY_AFTER_MAX_SECONDS": 2,
    }
    return settings.INTEGRATIONS


def with_integrations(organization):
    FeatureFactory(organization=organization, name="platform_integrations", is_entitled=True, is_enabled=True)
    return organization


@pytest.fixture
def seller():
    """(organization, admin user, the admin's Actor): a seller with platform integrations on."""
    organization = with_integrations(OrganizationFactory(name="Nusantara Goods"))
    admin = member(organization, role=Role.ORG_ADMIN)
    with tenant_scope(organization.id, user_id=admin.id):
        membership = Membership.objects.get(user=admin, organization=organization)
    return organization, admin, Actor.of(membership, user_id=admin.id)
