"""What field service (apps.service) writes on a device passport: the `serviced` step of a
completed service order."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from django.db import transaction

from apps.core.actors import Actor
from apps.core.errors import InvalidStateTransition, NotFound
from apps.passports.models import EventKind
from apps.passports.services.passports import LifecycleInput, passport_event_record

logger = logging.getLogger(__name__)


def passport_serviced_by_order(
    *,
    organization_id: UUID,
    passport_id: UUID,
    service_order_id: UUID,
    occurred_at: datetime,
    note: str,
    details: dict,
) -> UUID | None:
    """Record the `serviced` step of a completed service order on the customer organization's
    device, as the platform (the expert is not a member of the owner). The caller holds the
    transaction and a scope that sees the owner's rows.

    None, and nothing written, when the device is no longer the organization's (taken over
    since) or not installed (a serviced step is legal only then): the service order completes
    all the same, and says it wrote no step."""
    try:
        with transaction.atomic():
            event = passport_event_record(
                actor=Actor.system(organization_id=organization_id),
                passport_id=passport_id,
                data=LifecycleInput(
                    kind=EventKind.SERVICED,
                    occurred_at=occurred_at,
                    note=note[:2000],
                    service_order_id=service_order_id,
                    details=details,
                    is_public=True,
                ),
            )
    except (NotFound, InvalidStateTransition) as error:
        logger.info(
            "passport.serviced_step_skipped",
            extra={"passport_id": str(passport_id), "service_order_id": str(service_order_id), "reason": str(error)},
        )
        return None
    return event.id
