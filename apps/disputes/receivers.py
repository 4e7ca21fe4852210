"""What disputes do when another context's events arrive (through the outbox, at least once:
every handler is idempotent)."""

from __future__ import annotations

from uuid import UUID

from apps.disputes.services import dispute_freeze_funded_escrow


def escrow_funded(event) -> None:
    """An escrow funded while a case about its order is open is frozen for the case."""
    dispute_freeze_funded_escrow(order_id=UUID(event.payload["order_id"]), escrow_id=UUID(event.payload["escrow_id"]))
