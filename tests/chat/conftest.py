"""Chat set-up: a shipper and a carrier that trade, and an outsider; the shipper's customer."""

from __future__ import annotations

import pytest

from apps.tenancy.roles import Role
from tests.chat.factories import order_between, order_thread, side
from tests.factories import member


@pytest.fixture
def shipper():
    return side("Baltic Shippers", Role.SHIPPER)


@pytest.fixture
def carrier():
    return side("Volga Carriers", Role.CARRIER)


@pytest.fixture
def outsider():
    return side("Rhein Logistik", Role.CARRIER)


@pytest.fixture
def order(shipper, carrier):
    return order_between(shipper, carrier)


@pytest.fixture
def thread(shipper, carrier, order):
    return order_thread(shipper, carrier, order=order)


@pytest.fixture
def customer(shipper):
    """A customer of the shipper's organization (the `chat:*:own` grants)."""
    return member(shipper.org, Role.CUSTOMER)
