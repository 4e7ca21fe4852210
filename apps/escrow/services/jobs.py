"""The beat jobs' use cases: release escrows whose delivery was proved long enough ago,
and close the settled ones. Each escrow is handled in its client's tenant scope and its
own transaction, so one failure stops only that escrow."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.errors import DomainError
from apps.escrow.models import Escrow, EscrowStatus
from apps.escrow.services.escrows import escrow_release
from apps.escrow.services.lifecycle import escrow_close

logger = logging.getLogger(__name__)


def _due(queryset, limit: int) -> list[tuple[UUID, UUID]]:
    with system_scope(reason="escrow.beat_discovery", audit=False):
        return list(queryset.values_list("id", "client_organization_id")[:limit])


def escrow_auto_release_due(*, limit: int = 500) -> int:
    """Release, in full, every funded escrow whose auto-release time has come (not disputed:
    a disputed escrow is not in a holding status). Returns how many were released."""
    due = Escrow.objects.filter(
        status__in=[EscrowStatus.FUNDED, EscrowStatus.PARTIALLY_RELEASED], auto_release_at__lte=timezone.now()
    ).order_by("auto_release_at")
    released = 0
    for escrow_id, organization_id in _due(due, limit):
        try:
            with tenant_scope(organization_id):
                escrow_release(
                    actor=None,
                    escrow_id=escrow_id,
                    automatic=True,
                    reason=f"Automatic release {settings.ESCROW['AUTO_RELEASE_DAYS']} days after proof of delivery",
                )
            released += 1
        except DomainError as refused:  # e.g. the supplier's KYC lapsed: it stays held, retried next run
            logger.warning(
                "escrow.auto_release_refused", extra={"escrow_id": str(escrow_id), "code": str(refused.code)}
            )
    return released


def escrow_close_settled(*, limit: int = 500) -> int:
    """Close escrows settled more than CLOSE_AFTER_DAYS ago. Returns how many were closed."""
    cutoff = timezone.now() - timedelta(days=settings.ESCROW["CLOSE_AFTER_DAYS"])
    settled = Escrow.objects.filter(
        status__in=[EscrowStatus.RELEASED, EscrowStatus.REFUNDED], settled_at__lte=cutoff, closed_at=None
    ).order_by("settled_at")
    closed = 0
    for escrow_id, organization_id in _due(settled, limit):
        try:
            with tenant_scope(organization_id):
                escrow_close(escrow_id=escrow_id, reason="Settled and past the claims window")
            closed += 1
        except DomainError as refused:
            logger.warning("escrow.close_refused", extra={"escrow_id": str(escrow_id), "code": str(refused.code)})
    return closed
