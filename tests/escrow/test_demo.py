"""The demo data of `make run`: an escrow funding through the sandbox provider and one waiting."""

import pytest
from django.core.management import call_command

from apps.core.context import system_scope
from apps.escrow.models import Escrow, PaymentTransaction

pytestmark = pytest.mark.django_db


def _demo():
    with system_scope(reason="test: the demo rows", audit=False):
        return (
            sorted(Escrow.objects.values_list("status", "amount", "commission_amount")),
            list(PaymentTransaction.objects.values_list("kind", "status", "payment_method")),
        )


def test_seed_demo_makes_a_funding_escrow_and_a_waiting_one_once(capsys):
    call_command("seed_demo")
    first = _demo()
    call_command("seed_demo")

    escrows, transactions = first
    assert [status for status, _, _ in escrows] == ["created", "created"]
    assert sorted(amount for _, amount, _ in escrows) == [980, 2450]
    assert transactions == [("fund", "pending", "pm_card_ok")]  # the worker submits it once it is up
    assert _demo() == first
    assert "escrow:" in capsys.readouterr().out


def test_the_demo_freight_orders_carry_a_complete_shipment_so_the_first_cmr_is_filled():
    from apps.orders import selectors as orders
    from apps.orders.models import Order

    call_command("seed_demo")
    with system_scope(reason="test: the demo orders", audit=False):
        demo_orders = list(Order.objects.filter(kind="freight", client_organization_name="Baltic Shippers"))
    assert len(demo_orders) == 3  # escrow's two and tracking's truck on the road
    weights = set()
    for order in demo_orders:
        with system_scope(reason="test: the demo shipment", audit=False):
            shipment = orders.shipment_find(organization_id=order.client_organization_id, order_id=order.id)
            assert shipment is not None
            assert orders.shipment_missing(shipment) == []  # so a CMR is generated, not refused (422)
            weights.add(str(shipment.cargo_lines[0]["gross_weight_kg"]).removesuffix(".000"))
    assert weights == {"2400", "640", "4200"}
