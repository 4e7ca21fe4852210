"""Marketplace set-up: a shipper and carriers, each with its people; the carriers KYC-verified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.marketplace.factories import HAMBURG, WARSAW, VerificationFactory


@dataclass
class Party:
    org: object
    admin: object
    staff: object  # the role that does the day-to-day work (shipper or carrier)


def _party(name: str, role: str, *, verified: bool = True) -> Party:
    organization = OrganizationFactory(name=name)
    if verified:
        VerificationFactory(organization=organization)
    return Party(org=organization, admin=member(organization, Role.ORG_ADMIN), staff=member(organization, role))


@pytest.fixture
def shipper():
    return _party("Baltic Shippers", Role.SHIPPER)


@pytest.fixture
def carrier():
    return _party("Volga Carriers", Role.CARRIER)


@pytest.fixture
def rival():
    """A second carrier, competing with the first on the same RFQs."""
    return _party("Rhein Logistik", Role.CARRIER)


@pytest.fixture
def unverified_carrier():
    return _party("Fly-by-night Haulage", Role.CARRIER, verified=False)


def rfq_body(**overrides) -> dict:
    """What a shipper posts to /rfqs: 1.2 t of machine parts from Hamburg to Warsaw."""
    body = {
        "title": "Machine parts, Hamburg to Warsaw",
        "weight_kg": "1200",
        "volume_cbm": "8",
        "cargo_type": "palletized",
        "pallet_count": 4,
        "currency": "EUR",
        "declared_value": "25000.00",
        "segments": [{"origin": HAMBURG, "destination": WARSAW, "pickup_date": "2027-01-11"}],
        "deadline": (timezone.now() + timedelta(days=3)).isoformat(),
    }
    body.update(overrides)
    return body


def offer_body(**overrides) -> dict:
    body = {
        "price": "1850.00",
        "currency": "EUR",
        "transit_days": 2,
        "valid_until": (timezone.now() + timedelta(days=5)).isoformat(),
        "conditions": "Tail-lift truck.",
    }
    body.update(overrides)
    return body


@pytest.fixture
def open_rfq(api, shipper):
    """An RFQ the shipper drafted and published through the API (public)."""
    client = api(shipper.staff)
    created = client.post("/api/v1/rfqs", rfq_body(), format="json")
    assert created.status_code == 201, created.json()
    published = client.post(f"/api/v1/rfqs/{created.json()['id']}/publish")
    assert published.status_code == 200, published.json()
    return published.json()
