"""What the orders context holds about one person, for their personal data export
(docs/accounts.md, "Personal data"). Called inside the audited all-tenants scope.

An erasure changes nothing here: the orders are the parties' records (and the ledger's);
they keep pointing at the user row, which no longer names anyone.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q

from apps.orders.models import Order


def orders_of_person(*, user_id: UUID) -> list[dict]:
    """Orders the person created, is the customer of, or buys for (assisted purchase)."""
    return list(
        Order.objects.filter(Q(created_by_id=user_id) | Q(customer_id=user_id) | Q(purchase_agent_id=user_id))
        .order_by("created_at", "id")
        .values(
            "id",
            "number",
            "kind",
            "status",
            "payment_status",
            "client_organization_id",
            "client_organization_name",
            "supplier_organization_id",
            "supplier_organization_name",
            "customer_id",
            "created_by_id",
            "purchase_agent_id",
            "shipping_address",
            "currency",
            "total_amount",
            "declared_value",
            "external_tracking_number",
            "created_at",
        )
    )
