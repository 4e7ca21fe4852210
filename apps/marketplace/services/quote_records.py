"""Instant quotes given out: priced, recorded so that a booking can hold the price, and the
records cleaned up once nobody can book them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.conf import settings

from apps.core.actors import Actor
from apps.core.context import current_organization_id
from apps.marketplace import quotes
from apps.marketplace.models import QuoteRecord
from apps.marketplace.pricing import Shipment, shipment_as_dict

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedQuotes:
    result: quotes.QuoteResult
    records: list[QuoteRecord]  # one per quote shown, in the same order


def quotes_issue(
    *, actor: Actor, shipment: Shipment, now: datetime, sort: str = "price", explain: bool = False, limit: int = 20
) -> IssuedQuotes:
    """The quotes of `quotes.quote_shipment`, each recorded for the actor's organization with
    an id and a validity of settings.QUOTE_VALIDITY from `now`.

    One INSERT for every quote shown (bulk_create, none when nothing is quoted): a statement is
    atomic by itself, so no savepoint is taken around it. Offerings left out (`explain`) get
    no record."""
    result = quotes.quote_shipment(shipment=shipment, now=now, sort=sort, explain=explain, limit=limit)
    if not result.quotes:
        return IssuedQuotes(result=result, records=[])
    valid_until = now + settings.QUOTE_VALIDITY
    given = shipment_as_dict(shipment)
    records = [
        QuoteRecord(
            organization_id=actor.organization_id,
            offering_id=offering.id,
            carrier_organization_id=offering.organization_id,
            shipment=given,
            currency=quote.currency,
            total=quote.total,
            lines=[line.to_dict() for line in quote.lines],
            transit_days=quote.transit_days,
            created_at=now,
            valid_until=valid_until,
            created_by_id=actor.user_id,
        )
        for offering, quote in result.quotes
    ]
    QuoteRecord.objects.bulk_create(records)
    return IssuedQuotes(result=result, records=records)


def quote_records_due_organizations(*, now: datetime) -> list[UUID]:
    """Organizations holding quote records older than settings.QUOTE_RECORD_RETENTION. Reads
    every tenant: the beat task calls it in its bypass scope."""
    return list(
        QuoteRecord.objects.filter(created_at__lt=now - settings.QUOTE_RECORD_RETENTION)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )


def quote_records_delete_old(*, now: datetime) -> int:
    """Delete the current organization's quote records older than settings.QUOTE_RECORD_RETENTION
    (long past their validity: no booking can use them). Returns how many."""
    deleted, _ = (
        QuoteRecord.objects.visible_to(current_organization_id())
        .filter(created_at__lt=now - settings.QUOTE_RECORD_RETENTION)
        .delete()
    )
    logger.info("marketplace.quote_records_deleted", extra={"deleted": deleted})
    return deleted
