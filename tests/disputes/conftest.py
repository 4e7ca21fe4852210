"""Disputes set-up: the escrow tests' parties, order and escrow (funded through the sandbox
provider), and their check that the ledger balances after every test."""

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
