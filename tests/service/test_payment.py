"""A priced service order paid through escrow: the payment order made when the expert takes it,
the start refused until the customer has funded its escrow, the delivery when the work is
completed (the escrow's release clock), and the payment order cancelled when the expert gives
the order back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.context import tenant_scope
from apps.core.errors import InvalidStateTransition
from apps.escrow.models import Escrow
from apps.orders.models import Order
from apps.service import services
from apps.service.models import ServiceOrder
from apps.tenancy.roles import Role
from tests.escrow.conftest import payment_sandbox  # noqa: F401 (fixture)
from tests.escrow.parties import Party, create_escrow, fund_escrow, payment_gateways  # noqa: F401 (fixture)
from tests.factories import FeatureFactory, member
from tests.marketplace.factories import VerificationFactory
from tests.service.conftest import as_member, create_order

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def paying_customer(customer_organization):
    """The customer organization with escrow on (and KYC-verified, as paying needs)."""
    FeatureFactory(organization=customer_organization, name="escrow", is_entitled=True, is_enabled=True)
    VerificationFactory(organization=customer_organization)
    admin = member(customer_organization, Role.ORG_ADMIN)
    return Party(customer_organization, admin, admin, Role.ORG_ADMIN)


def test_a_priced_order_is_paid_into_escrow_before_the_work_starts(
    paying_customer, dispatcher, customer_organization, expert, expert_user, expert_organization
):
    order = create_order(dispatcher, customer_organization, price=Decimal("250.00"), currency="EUR")
    order = as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )
    with tenant_scope(customer_organization.id):
        payment = Order.objects.get(id=order.payment_order_id)
    assert (payment.kind, payment.status, payment.total_amount, payment.currency) == (
        "service",
        "confirmed",
        Decimal("250.000"),
        "EUR",
    )
    assert payment.supplier_organization_id == expert_organization.id
    assert order.payment_order_number == payment.number

    # the expert cannot start before the money is held
    with pytest.raises(InvalidStateTransition) as error:
        as_member(expert_user, expert_organization, services.service_order_start, service_order_id=order.id)
    assert "payment_order" in error.value.details
    with tenant_scope(customer_organization.id):
        assert ServiceOrder.objects.get(id=order.id).status == "ASSIGNED"

    escrow = fund_escrow(paying_customer, create_escrow(paying_customer, payment))
    assert escrow.status == "funded"
    as_member(expert_user, expert_organization, services.service_order_start, service_order_id=order.id)
    as_member(
        expert_user,
        expert_organization,
        services.service_order_complete,
        service_order_id=order.id,
        data=services.CompletionInput(work_done="Rewound the motor", signed_off_by_name="I. Petrova"),
    )
    with tenant_scope(customer_organization.id):
        assert Order.objects.get(id=payment.id).status == "delivered"


def test_giving_the_order_back_cancels_its_unpaid_payment_order(
    paying_customer, dispatcher, customer_organization, expert, expert_user, expert_organization
):
    order = create_order(dispatcher, customer_organization, price=Decimal("90"), currency="EUR")
    order = as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )
    escrow = create_escrow(paying_customer, Order(id=order.payment_order_id))
    as_member(expert_user, expert_organization, services.service_order_decline, service_order_id=order.id, reason="Ill")
    with tenant_scope(customer_organization.id):
        assert Order.objects.get(id=escrow.order_id).status == "cancelled"
        assert ServiceOrder.objects.get(id=order.id).payment_order_id is None
    # the escrow context closes the unfunded escrow of a cancelled order (through the outbox)
    from apps.core.services import outbox_relay

    outbox_relay(organization_id=expert_organization.id)
    with tenant_scope(customer_organization.id):
        assert Escrow.objects.get(id=escrow.id).status == "closed"


def test_the_price_is_fixed_once_the_payment_order_exists(paying_customer, dispatcher, customer_organization, expert):
    order = create_order(dispatcher, customer_organization, price=Decimal("90"), currency="EUR")
    as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )
    with pytest.raises(InvalidStateTransition):
        as_member(
            dispatcher,
            customer_organization,
            services.service_order_update,
            service_order_id=order.id,
            changes={"price": Decimal("80")},
        )


def test_without_escrow_a_priced_order_has_no_payment_order(dispatcher, customer_organization, expert):
    order = create_order(dispatcher, customer_organization, price=Decimal("90"), currency="EUR")
    order = as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )
    assert order.payment_order_id is None
