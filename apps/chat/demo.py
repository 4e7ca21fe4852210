"""Demo data of chat for `make run` (registered with apps.core.demo, run by `seed_demo`), made
through the services as the demo users would: Baltic Shippers and Volga Carriers talk about the
tracked freight order, and about Volga's offer on the open RFQ. Runs once, after the tracking
and marketplace seeders (which make the order and the offer)."""

from __future__ import annotations

from apps.accounts.services import user_get_by_email
from apps.chat import services
from apps.chat.selectors import thread_list
from apps.core.context import system_scope, tenant_scope
from apps.marketplace.selectors import offer_list
from apps.orders.selectors import order_list
from apps.tenancy.roles import Actor, Role
from apps.tenancy.selectors import organization_get_by_slug

ORDER_CONVERSATION = [
    ("carrier", "Good morning! The truck left Tallinn at 06:40, the reefer is set to +4 °C."),
    ("shipper", "Great, thank you. Kazan Machine Works receives until 17:00 on weekdays."),
    ("carrier", "Noted. We expect the border at Narva around noon; I will write when we are through."),
]
OFFER_CONVERSATION = [
    ("shipper", "Can you take the pallets with a tail-lift at the Warsaw end?"),
    ("carrier", "Yes, tail-lift delivery is included in the offer."),
]


def _actor(email: str, organization, role: str) -> Actor:
    return Actor(user_id=user_get_by_email(email=email).id, organization_id=organization.id, role=role)


def _talk(thread, people: dict, conversation: list[tuple[str, str]]) -> None:
    for speaker, text in conversation:
        actor = people[speaker]
        with tenant_scope(actor.organization_id, user_id=actor.user_id):
            services.message_send(actor=actor, thread_id=thread.id, text=text)


def seed() -> list[str]:
    """Make the demo conversations once; the lines `make run` prints about them."""
    with system_scope(reason="seed_demo: chat", audit=False):
        shipper = organization_get_by_slug(slug="baltic-shippers")
        carrier = organization_get_by_slug(slug="volga-carriers")
    people = {
        "shipper": _actor("shipper@baltic-shippers.demo", shipper, Role.SHIPPER),
        "carrier": _actor("carrier@volga-carriers.demo", carrier, Role.CARRIER),
    }
    with tenant_scope(shipper.id, user_id=people["shipper"].user_id):
        if thread_list(organization_id=shipper.id, user_id=people["shipper"].user_id).exists():
            return ["  chat: the demo conversations are there already"]
        order = order_list(organization_id=shipper.id).filter(kind="freight").order_by("created_at").first()
        offer = offer_list(organization_id=shipper.id).order_by("created_at").first()
        opened = []
        if order is not None:
            order_thread, _ = services.thread_open(actor=people["shipper"], kind="order", subject_id=order.id)
            opened.append((order_thread, ORDER_CONVERSATION))
        if offer is not None:
            offer_thread, _ = services.thread_open(
                actor=people["shipper"], kind="rfq", subject_id=offer.rfq_id, counterparty_id=carrier.id
            )
            opened.append((offer_thread, OFFER_CONVERSATION))
    for thread, conversation in opened:
        _talk(thread, people, conversation)
    titles = ", ".join(thread.title for thread, _ in opened) or "none (no demo order or offer)"
    return [f"  chat: Baltic Shippers and Volga Carriers talk about {titles}"]
