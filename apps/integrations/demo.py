"""Demo data of platform integrations for `make run` (registered with apps.core.demo, run by
`seed_demo`): a seller, Nusantara Goods, with platform integrations on and its four demo shops
connected, one per platform: the shops `python -m sandboxes.platforms --demo` serves, with the
same shop ids and development credentials (sandboxes/platforms/demo.py, read from there so the
two cannot drift apart).

The sandbox is not running while `seed_demo` runs, so the shops are connected without asking it
(`configuration_connect_trusted`); the first scheduled sync (beat, every minute) imports their
orders once `make run` is up, and the sandbox's demo flow keeps new ones coming.

Runs once per shop: a shop already connected is left as it is. A platform whose adapter is
missing is named in the banner, not skipped in silence. The seller's admin logs in with the
shared demo password.
"""

from __future__ import annotations

from apps.accounts.services import user_create, user_get_by_email
from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.errors import NotFound
from apps.integrations import services
from apps.integrations.models import Platform, PlatformConfiguration
from apps.tenancy import services as tenancy
from apps.tenancy.roles import Role
from apps.tenancy.selectors import organization_get_by_slug

# The shared demo password and platform admin of apps/tenancy/demo.py, repeated (tenancy's demo
# module is its own); tests/integrations/test_demo.py checks that they agree.
DEMO_PASSWORD = "manifest-demo-2026"
ADMIN_EMAIL = "admin@manifest.local"

SELLER = {
    "slug": "nusantara-goods",
    "name": "Nusantara Goods",
    "legal_name": "Nusantara Goods Pte. Ltd.",
    "country": "SG",
    "city": "Singapore",
    "address_line1": "1 Harbourfront Avenue",
    "postal_code": "098632",
    "business_type": "supplier",  # it sells
}
SELLER_ADMIN_EMAIL = "org.admin@nusantara-goods.demo"
# The shortest interval allowed: the demo's new orders arrive within a minute or two.
SYNC_INTERVAL_SECONDS = 60


def demo_shops():
    """The sandbox's demo shops (platform, shop_id, name, credentials), one per platform."""
    from sandboxes.platforms.demo import DEMO_SHOPS

    return DEMO_SHOPS


def _seller(staff: Actor):
    """The seller organization and its admin (made once), platform integrations on."""
    admin = user_get_by_email(email=SELLER_ADMIN_EMAIL) or user_create(
        email=SELLER_ADMIN_EMAIL,
        password=DEMO_PASSWORD,
        first_name="Sari",
        last_name="Wijaya",
        email_verified=True,
    )
    try:
        organization = organization_get_by_slug(slug=SELLER["slug"])
    except NotFound:
        fields = {key: value for key, value in SELLER.items() if key not in {"slug", "name"}}
        organization = tenancy.organization_create(
            actor=staff, name=SELLER["name"], slug=SELLER["slug"], admin_user_id=admin.id, **fields
        )
    tenancy.feature_set_entitlement(
        organization_id=organization.id, actor=staff, name="platform_integrations", entitled=True, enabled=True
    )
    return organization, admin


def seed() -> list[str]:
    """Connect the demo shops that are not connected yet; the banner lines about them."""
    with system_scope(reason="seed_demo: platform integrations", audit=False):
        platform_admin = user_get_by_email(email=ADMIN_EMAIL)
    staff = Actor.staff(platform_admin.id if platform_admin else None)
    with system_scope(reason="seed_demo: platform integrations", actor_id=staff.user_id):
        organization, admin = _seller(staff)
    actor = Actor(user_id=admin.id, organization_id=organization.id, role=Role.ORG_ADMIN)
    lines = [
        f"  Platform integrations: {SELLER['name']}'s demo shops (sandbox orders flow in)",
        f"    seller login  {SELLER_ADMIN_EMAIL}",
        "    look at       /admin/integrations/ and /api/v1/integrations/configurations",
    ]
    for shop in demo_shops():
        with tenant_scope(organization.id, user_id=admin.id):
            connected = PlatformConfiguration.objects.filter(platform=shop.platform, shop_id=shop.shop_id).exists()
            if not connected:
                try:
                    services.configuration_connect_trusted(
                        actor=actor,
                        platform=shop.platform,
                        shop_id=shop.shop_id,
                        name=shop.name,
                        credentials=dict(shop.credentials),
                        sync_interval=SYNC_INTERVAL_SECONDS,
                    )
                except ImportError as error:  # the platform's adapter is not there
                    lines.append(f"    ! {Platform(shop.platform).label}: NOT connected, no adapter ({error})")
                    continue
        lines.append(f"    {Platform(shop.platform).label:<12}  {shop.shop_id}")
    return lines
