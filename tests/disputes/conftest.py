"""Disputes set-up: the escrow tests' parties, order and escrow (funded through the sandbox
provider), their check that the ledger balances after every test, and a mediator."""

import pytest

from tests.escrow.conftest import payment_sandbox  # noqa: F401
from tests.escrow.parties import (  # noqa: F401
    client_party,
    escrow,
    funded_escrow,
    ledger_stays_balanced,
    order,
    outsider,
    payment_gateways,
    supplier_party,
)
from tests.factories import UserFactory


@pytest.fixture
def mediator():
    """A member of the platform staff (no organization of their own): the disputes' mediator."""
    return UserFactory(is_staff=True)
