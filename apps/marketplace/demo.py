"""Demo data of the marketplace for `make run` (registered with apps.core.demo, run by `seed_demo`), made through
the services as the demo users would make it: Volga Carriers' offerings with tariffs, an
open RFQ of Baltic Shippers with Volga's offer on it, and a draft RFQ. Runs once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from apps.accounts.services import user_get_by_email
from apps.core.context import system_scope, tenant_scope
from apps.marketplace import services
from apps.marketplace.models import ServiceOffering
from apps.tenancy.roles import Actor, Role
from apps.tenancy.selectors import organization_get_by_slug

if TYPE_CHECKING:
    from apps.tenancy.models import Organization

TALLINN = {"country": "EE", "city": "Tallinn", "address": "Sadama 25", "latitude": 59.4436, "longitude": 24.7536}
KAZAN = {"country": "RU", "city": "Kazan", "address": "", "latitude": 55.7963, "longitude": 49.1088}
MOSCOW = {"country": "RU", "city": "Moscow", "address": "", "latitude": 55.7558, "longitude": 37.6173}

OFFERINGS = [
    {
        "offering": {
            "name": "Baltic-Volga groupage (LTL)",
            "description": "Weekly groupage between the Baltic ports and the Volga region.",
            "service_type": "road_ltl",
            "origin_countries": ["EE", "LV", "LT", "RU"],
            "destination_countries": ["RU", "EE", "LV", "LT"],
            "max_weight_kg": Decimal("10000"),
            "max_volume_cbm": Decimal("40"),
            "cargo_types": ["general", "palletized"],
            "transit_days": 5,
            "tracking_included": True,
            "pricing_model": "per_kg",
            "base_price": Decimal("0.1800"),
            "currency": "EUR",
            "available_days": [1, 3, 5],
        },
        "tariffs": [
            {"name": "Handling per pallet", "tariff_type": "base", "unit": "pallet", "price_per_unit": Decimal("12")},
            {
                "name": "Long haul",
                "tariff_type": "distance",
                "unit": "km",
                "price_per_unit": Decimal("0.35"),
                "min_distance_km": Decimal("1000"),
                "minimum_charge": Decimal("150"),
            },
            {"name": "Fuel surcharge", "tariff_type": "fuel_surcharge", "fuel_multiplier": Decimal("1.085")},
        ],
    },
    {
        "offering": {
            "name": "Kazan-Moscow full truck (FTL)",
            "service_type": "road_ftl",
            "origin_countries": ["RU"],
            "destination_countries": ["RU"],
            "max_weight_kg": Decimal("20000"),
            "max_volume_cbm": Decimal("82"),
            "max_length_cm": 1360,
            "transit_days": 2,
            "sla_guarantee": True,
            "insurance_included": True,
            "pricing_model": "per_km",
            "base_price": Decimal("1.2000"),
            "currency": "RUB",
        },
        "tariffs": [
            {"name": "Loading", "tariff_type": "base", "unit": "fixed", "price_per_unit": Decimal("3500")},
            {"name": "Winter season", "tariff_type": "seasonal", "seasonal_multiplier": Decimal("1.100")},
        ],
    },
    {
        "offering": {
            "name": "Reefer 2-8 °C pharma",
            "service_type": "road_ftl",
            "origin_countries": ["RU", "EE"],
            "destination_countries": ["RU"],
            "max_weight_kg": Decimal("18000"),
            "cargo_types": ["refrigerated", "palletized"],
            "temperature_controlled": True,
            "temperature_min_c": Decimal("-25"),
            "temperature_max_c": Decimal("25"),
            "transit_days": 4,
            "pricing_model": "fixed",
            "base_price": Decimal("2400"),
            "currency": "EUR",
        },
        "tariffs": [{"name": "Fuel surcharge", "tariff_type": "fuel_surcharge", "fuel_multiplier": Decimal("1.06")}],
    },
]


def _actor(email: str, organization: Organization, role: str) -> Actor:
    return Actor(user_id=user_get_by_email(email=email).id, organization_id=organization.id, role=role)


def seed() -> list[str]:
    """Make the demo marketplace once; the lines `make run` prints about it."""
    with system_scope(reason="seed_demo: marketplace", audit=False):
        carrier = organization_get_by_slug(slug="volga-carriers")
        shipper = organization_get_by_slug(slug="baltic-shippers")
        seeded = ServiceOffering.objects.filter(organization=carrier).exists()
    if seeded:
        return ["  marketplace: demo offerings and RFQs already there"]
    carrier_admin = _actor("org.admin@volga-carriers.demo", carrier, Role.ORG_ADMIN)
    carrier_user = _actor("carrier@volga-carriers.demo", carrier, Role.CARRIER)
    shipper_user = _actor("shipper@baltic-shippers.demo", shipper, Role.SHIPPER)
    with tenant_scope(carrier.id, user_id=carrier_admin.user_id):
        groupage = None
        for spec in OFFERINGS:
            offering = services.offering_create(actor=carrier_admin, data=spec["offering"])
            groupage = groupage or offering
            for tariff in spec["tariffs"]:
                services.tariff_create(actor=carrier_admin, offering_id=offering.id, data=tariff)
    deadline = timezone.now() + timedelta(days=7)
    cargo = {
        "weight_kg": Decimal("2400"),
        "volume_cbm": Decimal("12"),
        "pallet_count": 6,
        "cargo_type": "palletized",
        "currency": "EUR",
        "declared_value": Decimal("48000"),
        "deadline": deadline,
    }
    # A Monday, when the groupage service picks up.
    in_ten_days = (timezone.now() + timedelta(days=10)).date()
    pickup = (in_ten_days + timedelta(days=(7 - in_ten_days.weekday()) % 7)).isoformat()
    with tenant_scope(shipper.id, user_id=shipper_user.user_id):
        open_rfq = services.rfq_create(
            actor=shipper_user,
            data={
                "title": "Six pallets of machine parts, Tallinn to Kazan",
                "segments": [
                    {
                        "sequence": 1,
                        "origin": TALLINN,
                        "destination": KAZAN,
                        "pickup_date": pickup,
                        "delivery_date": None,
                    }
                ],
                **cargo,
            },
        )
        services.rfq_publish(actor=shipper_user, rfq_id=open_rfq.id)
        services.rfq_create(
            actor=shipper_user,
            data={
                "title": "Return load Moscow to Tallinn (draft)",
                "segments": [
                    {
                        "sequence": 1,
                        "origin": MOSCOW,
                        "destination": TALLINN,
                        "pickup_date": None,
                        "delivery_date": None,
                    }
                ],
                **cargo,
            },
        )
    with tenant_scope(carrier.id, user_id=carrier_user.user_id):
        offer = services.offer_submit(
            actor=carrier_user,
            rfq_id=open_rfq.id,
            data={"service_offering": groupage.id, "conditions": "Tail-lift delivery; customs papers by the shipper."},
        )
    return [
        f"  marketplace: {len(OFFERINGS)} offerings of Volga Carriers; {open_rfq.number} open"
        f" (Baltic Shippers) with Volga's offer of {offer.price} {offer.currency}",
    ]
