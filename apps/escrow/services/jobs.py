"""The beat jobs' use cases: release escrows whose delivery was proved long enough ago,
and close the settled ones. The beat task finds, under the bypass scope, the client
organizations that have such escrows, and runs these once per organization in its scope;
each escrow is handled in a savepoint of that transaction, so one refusal stops only that escrow."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import current_organization_id
from apps.core.errors import DomainError
from apps.escrow.models import Escrow, EscrowStatus
from apps.escrow.services.escrows import escrow_release
from apps.escrow.services.lifecycle import escrow_close

logger = logging.getLogger(__name__)


def _release_due():
    return Escrow.objects.filter(
        status__in=[EscrowStatus.FUNDED, EscrowStatus.PARTIALLY_RELEASED], auto_release_at__lte=timezone.now()
    )


def _settled():
    cutoff = timezone.now() - timedelta(days=settings.ESCROW["CLOSE_AFTER_DAYS"])
    return Escrow.objects.filter(
        status__in=[EscrowStatus.RELEASED, EscrowStatus.REFUNDED], settled_at__lte=cutoff, closed_at=None
    )


def _client_organizations(queryset) -> list[UUID]:
    return list(queryset.order_by().values_list("client_organization_id", flat=True).distinct())


def escrows_release_due_organizations() -> list[UUID]:
    """Client organizations with an escrow due for automatic release. Reads every tenant: the
    beat task calls it in its bypass scope."""
    return _client_organizations(_release_due())


def escrows_settled_organizations() -> list[UUID]:
    """Client organizations with a settled escrow past the claims window (the beat task's bypass scope)."""
    return _client_organizations(_settled())


def _of_current_client(queryset, limit: int) -> list[UUID]:
    return list(queryset.filter(client_organization_id=current_organization_id()).values_list("id", flat=True)[:limit])


def escrow_auto_release_due(*, limit: int = 500) -> int:
    """Release, in full, every funded escrow of the current (client) organization whose
    auto-release time has come (not disputed: a disputed escrow is not in a holding status).
    Returns how many were released."""
    released = 0
    for escrow_id in _of_current_client(_release_due().order_by("auto_release_at"), limit):
        try:
            with transaction.atomic():
                escrow_release(
                    actor=Actor.system(organization_id=current_organization_id()),
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
    """Close the current (client) organization's escrows settled more than CLOSE_AFTER_DAYS ago.
    Returns how many were closed."""
    closed = 0
    for escrow_id in _of_current_client(_settled().order_by("settled_at"), limit):
        try:
            with transaction.atomic():
                escrow_close(
                    actor=Actor.system(organization_id=current_organization_id()),
                    escrow_id=escrow_id,
                    reason="Settled and past the claims window",
                )
            closed += 1
        except DomainError as refused:
            logger.warning("escrow.close_refused", extra={"escrow_id": str(escrow_id), "code": str(refused.code)})
    return closed
