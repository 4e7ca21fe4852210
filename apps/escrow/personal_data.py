"""What the escrow context holds about one person, for their personal data export
(docs/accounts.md, "Personal data"). Called inside the audited all-tenants scope.

An erasure changes nothing here: escrows and the ledger's journal entries are kept as
they are (the ledger must keep balancing); they point at a user row that names no one.
"""

from __future__ import annotations

from uuid import UUID

from apps.escrow.models import Escrow


def escrows_of_person(*, user_id: UUID) -> list[dict]:
    """Escrows the person created."""
    return list(
        Escrow.objects.filter(created_by_id=user_id)
        .order_by("created_at", "id")
        .values(
            "id",
            "number",
            "order_id",
            "order_number",
            "client_organization_name",
            "supplier_organization_name",
            "amount",
            "currency",
            "status",
            "created_at",
        )
    )
