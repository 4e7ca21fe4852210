"""Locks of the money paths.

Every use case that moves an escrow's money (confirm funding, release, refund, dispute,
resolution, cancel, close) first locks the escrow's row with SELECT ... FOR UPDATE and
re-reads it: the cached amounts it checks (held, released, refunded) cannot change under
it, so many concurrent partial releases and refunds never move more than is held. Both
parties may lock it (row-level security gives both the UPDATE policy). A use case locks
one escrow; a caller that handles several (the beat jobs) commits each separately, so
there is no lock order to keep between escrows.

Ledger accounts are never locked: balances are sums of postings, appended only, so a
busy account (the platform's commission, a provider's clearing) is not a hot row.
"""

from __future__ import annotations

from uuid import UUID

from apps.core.errors import NotFound
from apps.escrow.models import Escrow


def lock_escrow(escrow_id: UUID) -> Escrow:
    """The escrow, locked until the current transaction ends; NOT_FOUND when the tenant cannot see it."""
    escrow = Escrow.objects.select_for_update(of=("self",)).filter(id=escrow_id).first()
    if escrow is None:
        raise NotFound("No such escrow.")
    return escrow
