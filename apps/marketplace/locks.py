"""Locks of the marketplace.

Every use case that changes an RFQ or the offers on it (publish, cancel, close, expire,
submit, revise, withdraw, accept, reject) first takes the RFQ's lock, so that an award
and a late offer, or two awards, are serialized: the second sees what the first did.

The lock is a transaction-scoped advisory lock rather than `SELECT ... FOR UPDATE` on the
RFQ row because carriers act on RFQs they do not own: row-level security lets them read
an open RFQ but not lock it (FOR UPDATE needs the UPDATE policy, which only the owner
passes). A use case takes one RFQ's lock; a caller that runs several in one transaction
(the back-office closing a selection of RFQs) takes them in primary-key order, so two such
callers cannot deadlock.
"""

from __future__ import annotations

from uuid import UUID

from django.db import connection

# A namespace of our own for the two-key form of pg_advisory_xact_lock.
RFQ_LOCK_NAMESPACE = 0x52465131  # "RFQ1"


def lock_rfq(rfq_id: UUID) -> None:
    """Hold the RFQ's lock until the current transaction ends (waits for another holder)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [RFQ_LOCK_NAMESPACE, str(rfq_id)])


# Another namespace: a quote's lock, so that two bookings of one quote are serialized and the
# second finds it booked. Advisory, by id: it reads no row, so it tells no tenant anything.
QUOTE_LOCK_NAMESPACE = 0x51544531  # "QTE1"


def lock_quote(quote_id: UUID) -> None:
    """Hold the quote's lock until the current transaction ends (waits for another holder)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [QUOTE_LOCK_NAMESPACE, str(quote_id)])
