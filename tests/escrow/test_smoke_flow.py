"""The whole escrow path once, through the services: create, fund, release in part, refund the rest."""

from decimal import Decimal

import pytest

from apps.core.context import tenant_scope
from apps.escrow import selectors, services
from apps.escrow.models import EscrowStatus

pytestmark = pytest.mark.django_db


def test_fund_release_refund_moves_the_money_and_keeps_the_ledger_balanced(client_party, supplier_party, funded_escrow):
    assert funded_escrow.status == EscrowStatus.FUNDED
    assert funded_escrow.held_amount == Decimal("1000.00")

    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        released = services.escrow_release(actor=client_party.actor(), escrow_id=funded_escrow.id, amount="400.00")
    assert released.status == EscrowStatus.PARTIALLY_RELEASED
    assert released.commission_taken == Decimal("12.00")  # 3 % of 400 (standard plan)

    with tenant_scope(supplier_party.org.id, user_id=supplier_party.staff.id):
        services.escrow_refund(actor=supplier_party.actor(), escrow_id=funded_escrow.id)
        supplier_balances = selectors.balances(organization_id=supplier_party.org.id)
    assert [(b.currency, b.available, b.held) for b in supplier_balances] == [("EUR", Decimal("388.00"), Decimal(0))]

    with tenant_scope(client_party.org.id):
        escrow = selectors.escrow_get(organization_id=client_party.org.id, escrow_id=funded_escrow.id)
    assert (escrow.status, escrow.held_amount, escrow.refunded_amount) == (EscrowStatus.REFUNDED, 0, Decimal("600.00"))
