"""Parcel forwarding orders: assisted purchase (the forwarder buys for its customer) and
self purchase (the customer buys and ships to the forwarder's warehouse).

In both the forwarder runs both sides: client = supplier = the customer's organization,
and the customer is the user. Feature flags are the API's to check (403 FEATURE_DISABLED).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit
from uuid import UUID

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count

from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.core.money import require_minor_units, round_money
from apps.core.services import outbox_publish
from apps.orders import events
from apps.orders.models import Order, OrderItem, OrderKind, OrderStatus, Product
from apps.orders.services.files import DOCUMENT_TYPES, Upload, check_upload
from apps.orders.services.orders import (
    Actor,
    ItemInput,
    OrderInput,
    _check_actor,
    _parties_of,
    _sides_of,
    order_create,
    order_move,
)
from apps.orders.transitions import ORDER, SUPPLIER
from apps.tenancy.roles import Grant, Role, grant_for
from apps.tenancy.selectors import member_list

# Shop host (without "www.") -> source platform. Subdomains count (smile.amazon.de).
PLATFORM_BY_HOST = {
    "amazon.de": "amazon_de",
    "amazon.com": "amazon_us",
    "amazon.co.uk": "amazon_uk",
    "amazon.fr": "amazon_fr",
    "amazon.it": "amazon_it",
    "amazon.es": "amazon_es",
    "ebay.de": "ebay_de",
    "ebay.com": "ebay_us",
    "ebay.co.uk": "ebay_uk",
    "aliexpress.com": "aliexpress",
    "taobao.com": "taobao",
    "tmall.com": "tmall",
    "etsy.com": "etsy",
    "zalando.de": "zalando_de",
    "otto.de": "otto_de",
}
OTHER_PLATFORM = "other"

# The agent's part of an assisted purchase: from the request until the goods are bought.
AGENT_OPEN_STATUSES = (OrderStatus.REQUESTED, OrderStatus.QUOTED, OrderStatus.PAID, OrderStatus.PURCHASED)


def source_platform(url: str) -> str:
    """The shop a product URL belongs to (amazon_de, ebay_us, ...), or "other"."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    for known, platform in PLATFORM_BY_HOST.items():
        if host == known or host.endswith("." + known):
            return platform
    return OTHER_PLATFORM


def _least_busy_agent(organization_id: UUID) -> UUID | None:
    """The active purchase agent with the fewest open assisted purchases (earliest member on
    a tie); None when the organization has none.

    Two requests at the same moment may both pick the same agent: the balance is a
    preference, not an invariant, so no lock is taken for it."""
    agents = list(
        member_list(organization_id=organization_id)
        .filter(role=Role.PURCHASE_AGENT, is_active=True)
        .values_list("user_id", flat=True)
    )
    if not agents:
        return None
    load = dict(
        Order.objects.filter(
            supplier_organization_id=organization_id,
            kind=OrderKind.ASSISTED_PURCHASE,
            purchase_agent_id__in=agents,
            status__in=AGENT_OPEN_STATUSES,
        )
        .values("purchase_agent_id")
        .annotate(open_orders=Count("id"))
        .values_list("purchase_agent_id", "open_orders")
    )
    return min(agents, key=lambda user_id: (load.get(user_id, 0), agents.index(user_id)))


@dataclass(frozen=True)
class AssistedPurchaseResult:
    order: Order
    product: Product
    purchase_agent_id: UUID | None


@transaction.atomic
def assisted_purchase_create(
    *,
    actor: Actor,
    product_url: str,
    quantity: int,
    shipping_address: dict,
    notes: str = "",
    title: str = "",
) -> AssistedPurchaseResult:
    """Record the product and ask the forwarder to buy it: an assisted purchase order in
    `requested`, priced at 0 until quoted, assigned to the least busy purchase agent (or
    waiting unassigned when there is none)."""
    if urlsplit(product_url).scheme not in ("http", "https"):
        raise ValidationFailed("The product link must be an http or https URL.", details={"product_url": ["http(s)."]})
    if not 1 <= quantity <= 10:
        raise ValidationFailed("Order from 1 to 10 pieces.", details={"quantity": ["From 1 to 10."]})
    organization_id = actor.organization_id
    product = Product.objects.create(
        organization_id=organization_id,
        external_url=product_url,
        title=title.strip(),
        source_platform=source_platform(product_url),
    )
    agent_id = _least_busy_agent(organization_id)
    order = order_create(
        order_input=OrderInput(
            kind=OrderKind.ASSISTED_PURCHASE,
            client_organization_id=organization_id,
            supplier_organization_id=organization_id,
            # A placeholder until the quote names the shop's currency.
            currency="EUR",
            items=[ItemInput(name=(product.title or product_url)[:300], quantity=quantity, unit_price=Decimal(0))],
            customer_id=actor.user_id,
            shipping_address=shipping_address,
            metadata={"notes": notes} if notes else {},
            product_id=product.id,
            purchase_agent_id=agent_id,
        ),
        actor=actor,
        note=notes,
    )
    outbox_publish(
        events.PurchaseAgentAssigned(
            organization_id=organization_id,
            order_id=str(order.id),
            number=order.number,
            kind=order.kind,
            party_organization_ids=_parties_of(order),
            purchase_agent_id=str(agent_id) if agent_id else None,
        )
    )
    return AssistedPurchaseResult(order=order, product=product, purchase_agent_id=agent_id)


def _locked_order(order_id: UUID, actor: Actor, *, kind: str) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or not _sides_of(order, actor.organization_id):
        raise NotFound("Order not found.")
    if order.kind != kind:
        raise ValidationFailed(
            f"This is a {order.kind.replace('_', ' ')} order.", details={"kind": [f"Only for {kind} orders."]}
        )
    return order


def _check_purchase_side(order: Order, actor: Actor) -> None:
    """The forwarder's side acts with `purchase:update` or `order:update`."""
    if SUPPLIER not in _sides_of(order, actor.organization_id):
        raise PermissionDenied("Only the supplier organization may do this.")
    if all(
        grant_for(actor.role, actor.extra_permissions, permission) is not Grant.ALL
        for permission in ("purchase:update", "order:update")
    ):
        raise PermissionDenied("Your role does not allow purchase:update on this order.")


@transaction.atomic
def order_quote(*, order_id: UUID, actor: Actor, price: Decimal, currency: str, note: str = "") -> Order:
    """Price an assisted purchase (the unit price at the shop) and move it requested → quoted.

    The price has at most the currency's minor units (JPY 0, EUR 2, KWD 3), so the total,
    price * quantity, is exact in them too."""
    order = _locked_order(order_id, actor, kind=OrderKind.ASSISTED_PURCHASE)
    ORDER[order.kind].check(order.status, OrderStatus.QUOTED)
    _check_purchase_side(order, actor)
    if price <= 0:
        raise ValidationFailed("A quote is a positive price.", details={"price": ["Greater than 0."]})
    currency = currency.upper()
    require_minor_units(price, currency, field="price")
    Product.objects.filter(pk=order.product_id).update(price=price, currency=currency)
    items = list(OrderItem.objects.filter(order=order))
    OrderItem.objects.filter(order=order).update(unit_price=price, currency=currency)
    order.currency = currency
    order.total_amount = round_money(sum((price * item.quantity for item in items), Decimal(0)), currency)
    order.save(update_fields=["currency", "total_amount", "updated_at"])
    order_move(
        order,
        status=OrderStatus.QUOTED,
        actor=actor,
        acting_organization_id=actor.organization_id,
        note=note or f"Quoted {price} {currency} per piece.",
    )
    return order


@transaction.atomic
def order_record_purchase(*, order_id: UUID, actor: Actor, tracking_number: str, note: str = "") -> Order:
    """The agent bought the goods: keep the shop's tracking number (the warehouse matches the
    parcel by it) and move the order paid → purchased."""
    from apps.orders.services.receiving import normalize_tracking_number

    order = _locked_order(order_id, actor, kind=OrderKind.ASSISTED_PURCHASE)
    rule = ORDER[order.kind].check(order.status, OrderStatus.PURCHASED)
    _check_actor(order, actor, sides=rule.sides, permission=rule.permission)
    tracking_number = normalize_tracking_number(tracking_number)
    if not tracking_number:
        raise ValidationFailed("Give the shop's tracking number.", details={"tracking_number": ["Required."]})
    taken = (
        Order.objects.filter(
            supplier_organization_id=order.supplier_organization_id, external_tracking_number=tracking_number
        )
        .exclude(pk=order.pk)
        .exists()
    )
    if taken:
        raise ValidationFailed(
            "Another order already expects a parcel with this tracking number.",
            details={"tracking_number": ["Already used by another order."]},
        )
    order.external_tracking_number = tracking_number
    order.save(update_fields=["external_tracking_number", "updated_at"])
    order_move(
        order,
        status=OrderStatus.PURCHASED,
        actor=actor,
        acting_organization_id=actor.organization_id,
        note=note or f"Bought; the shop ships with {tracking_number}.",
    )
    return order


@transaction.atomic
def self_purchase_create(
    *,
    actor: Actor,
    tracking_number: str,
    declared_value: Decimal,
    currency: str,
    invoice: Upload,
    shipping_address: dict,
    description: str = "",
) -> Order:
    """The customer bought the goods and sends them to the forwarder: a self purchase order,
    submitted at once (draft → pending) with its purchase invoice, to be matched when the
    parcel arrives. A bad invoice is refused (400) before anything is stored; a failure after
    the file was written removes it."""
    from apps.orders.services.receiving import normalize_tracking_number

    check_upload(invoice, field="invoice", accepted=DOCUMENT_TYPES)
    tracking_number = normalize_tracking_number(tracking_number)
    if not tracking_number:
        raise ValidationFailed("Give the parcel's tracking number.", details={"tracking_number": ["Required."]})
    if declared_value <= 0:
        raise ValidationFailed("Declare the goods' value.", details={"declared_value": ["Greater than 0."]})
    require_minor_units(declared_value, currency.upper(), field="declared_value")
    order = order_create(
        order_input=OrderInput(
            kind=OrderKind.SELF_PURCHASE,
            client_organization_id=actor.organization_id,
            supplier_organization_id=actor.organization_id,
            currency=currency,
            items=[
                ItemInput(
                    name=description.strip() or "Goods bought by the customer", quantity=1, unit_price=declared_value
                )
            ],
            customer_id=actor.user_id,
            shipping_address=shipping_address,
            external_tracking_number=tracking_number,
            declared_value=declared_value,
        ),
        actor=actor,
    )
    order.purchase_invoice_filename = invoice.name[:255]
    order.purchase_invoice_sha256 = invoice.sha256
    order.purchase_invoice.save(invoice.name, ContentFile(invoice.data), save=False)
    try:
        order.save(update_fields=["purchase_invoice", "purchase_invoice_filename", "purchase_invoice_sha256"])
        order_move(
            order,
            status=OrderStatus.PENDING,
            actor=actor,
            acting_organization_id=actor.organization_id,
            note="Submitted with the purchase invoice.",
        )
    except BaseException:
        order.purchase_invoice.delete(save=False)  # the row is not there: neither is its file
        raise
    return order
