"""The rating an offering shows in the catalogue, kept by the reviews context."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.db import transaction

from apps.marketplace.models import ServiceOffering


@transaction.atomic
def offering_rating_set(*, offering_id: UUID, average: Decimal, count: int) -> None:
    """Store the aggregate of the reviews of the freight orders the offering carried
    (apps.reviews computes it; rounded half up to two places). Runs in whatever scope the
    caller holds: a shipper's review writes the carrier's offering, so the caller is expected
    to be in an audited system scope. An offering that is gone is left alone."""
    ServiceOffering.objects.filter(id=offering_id).update(
        rating_average=Decimal(average).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), rating_count=count
    )
