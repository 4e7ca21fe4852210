"""The rating an expert's profile shows, kept by the reviews context."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.db import transaction

from apps.service.models import ExpertPassport


@transaction.atomic
def expert_rating_set(*, expert_id: UUID, average: Decimal, count: int) -> None:
    """Store the expert's review aggregate (apps.reviews computes it from the reviews it holds;
    rounded half up to two places). Runs in whatever scope the caller holds: reviews write it
    from the reviewer's side, so the caller is expected to be in an audited system scope."""
    ExpertPassport.objects.filter(id=expert_id).update(
        rating_average=Decimal(average).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), rating_count=count
    )
