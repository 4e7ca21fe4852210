"""Parties that trade, an order between them, and threads about it, for the chat tests and the bench."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.chat import services as chat_services
from apps.chat.models import Thread
from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.orders import services as order_services
from tests.factories import OrganizationFactory, member
from tests.shipments import COMPLETE_SHIPMENT


@dataclass
class Side:
    org: object
    user: object  # does the day-to-day work (shipper, carrier)
    role: str

    def actor(self) -> Actor:
        return Actor(user_id=self.user.id, organization_id=self.org.id, role=self.role)


def side(name: str, role: str) -> Side:
    organization = OrganizationFactory(name=name)
    return Side(org=organization, user=member(organization, role), role=role)


def order_between(client: Side, supplier: Side, *, customer=None):
    """A freight order of `client` carried by `supplier` (a deal between them)."""
    with tenant_scope(client.org.id):
        return order_services.order_create(
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=client.org.id,
                supplier_organization_id=supplier.org.id,
                customer_id=customer.id if customer is not None else None,
                currency="EUR",
                items=[order_services.ItemInput(name="FTL Hamburg-Warsaw", quantity=1, unit_price=Decimal("1850"))],
                shipment=COMPLETE_SHIPMENT,
            ),
            actor=Actor(user_id=None),
        )


def order_thread(client: Side, supplier: Side, *, order=None) -> Thread:
    """The thread about an order between the two (opened by the client's user)."""
    order = order or order_between(client, supplier)
    with tenant_scope(client.org.id, user_id=client.user.id):
        thread, _ = chat_services.thread_open(actor=client.actor(), kind="order", subject_id=order.id)
    return thread


def send(sender: Side, thread: Thread, text: str = "Hello"):
    with tenant_scope(sender.org.id, user_id=sender.user.id):
        return chat_services.message_send(actor=sender.actor(), thread_id=thread.id, text=text)
