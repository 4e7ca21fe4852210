"""Factories of the marketplace: offerings, tariffs, RFQs in the all-tenants scope.

Offers are made through the services (tests/marketplace/conftest.py), so every offer in a
test has its revision and history rows as the API would leave them."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from apps.kyc.models import OrganizationVerification, VerificationStatus
from apps.marketplace.models import Rfq, RfqStatus, ServiceOffering, Tariff
from tests.factories import OrganizationFactory, ScopedFactory

HAMBURG = {"country": "DE", "city": "Hamburg", "address": "", "latitude": 53.5511, "longitude": 9.9937}
WARSAW = {"country": "PL", "city": "Warsaw", "address": "", "latitude": 52.2297, "longitude": 21.0122}


class VerificationFactory(ScopedFactory):
    """A KYC-verified organization (basic level), without going through documents."""

    class Meta:
        model = OrganizationVerification

    organization = factory.SubFactory(OrganizationFactory)
    status = VerificationStatus.VERIFIED
    verified_level = "basic"
    decided_at = factory.LazyFunction(timezone.now)


class OfferingFactory(ScopedFactory):
    class Meta:
        model = ServiceOffering

    organization = factory.SubFactory(OrganizationFactory)
    organization_name = factory.LazyAttribute(lambda offering: offering.organization.name)
    name = factory.Sequence(lambda n: f"Road freight {n}")
    service_type = "road_ftl"
    transit_days = 3
    pricing_model = "per_kg"
    base_price = Decimal("0.1000")
    currency = "EUR"


class TariffFactory(ScopedFactory):
    class Meta:
        model = Tariff

    offering = factory.SubFactory(OfferingFactory)
    organization = factory.LazyAttribute(lambda tariff: tariff.offering.organization)
    offering_is_published = factory.LazyAttribute(lambda tariff: tariff.offering.is_published)
    name = factory.Sequence(lambda n: f"Tariff {n}")
    tariff_type = "base"
    price_per_unit = Decimal("10.0000")
    unit = "fixed"


class RfqFactory(ScopedFactory):
    """An RFQ as its owner would leave it; open (published) unless told otherwise."""

    class Meta:
        model = Rfq

    organization = factory.SubFactory(OrganizationFactory)
    organization_name = factory.LazyAttribute(lambda rfq: rfq.organization.name)
    number = factory.Sequence(lambda n: f"RFQ-2026-{n + 900000:06d}")
    title = "Machine parts, Hamburg to Warsaw"
    status = RfqStatus.OPEN
    weight_kg = Decimal("1200.000")
    volume_cbm = Decimal("8.000")
    currency = "EUR"
    segments = factory.LazyFunction(
        lambda: [{"sequence": 1, "origin": HAMBURG, "destination": WARSAW, "pickup_date": None, "delivery_date": None}]
    )
    deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    published_at = factory.LazyFunction(timezone.now)
