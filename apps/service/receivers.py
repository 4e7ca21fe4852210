"""What field service does when another context's events arrive (through the outbox, at least
once: every handler is idempotent)."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction


def passport_service_requested(event) -> None:
    """A device's service request becomes a PENDING service order of its owner (once: the
    request id is unique on orders), when the owner has expert services on. Runs in the owner's
    scope (the event is the owner's)."""
    from apps.passports.selectors import service_request_get
    from apps.service.services import service_order_from_request

    organization_id = event.organization_id
    if organization_id is None:
        return
    with transaction.atomic():
        request = service_request_get(
            organization_id=organization_id, service_request_id=UUID(event.payload["service_request_id"])
        )
        service_order_from_request(organization_id=organization_id, service_request=request)
