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


def service_order_created(event) -> None:
    """A new service order is matched with experts (and, URGENT or HIGH, offered live to the
    RUSHING ones). In the customer organization's scope, whose event it is; matching again on a
    second delivery replaces only the results nobody acted on."""
    from apps.core.actors import Actor
    from apps.core.errors import NotFound
    from apps.service.services import service_order_match

    if event.organization_id is None:
        return
    try:
        service_order_match(
            actor=Actor.system(organization_id=event.organization_id),
            service_order_id=UUID(event.payload["service_order_id"]),
        )
    except NotFound:
        return


def service_order_status_changed(event) -> None:
    """An order back to PENDING (its expert declined it) is matched again and, URGENT or HIGH,
    offered to the next RUSHING experts. The expert's organization published the event; the
    order and its results are the customer's, the first of the payload's parties: matched in
    that organization's scope."""
    from apps.core.actors import Actor
    from apps.core.context import tenant_scope
    from apps.core.errors import NotFound
    from apps.service.services import service_order_match

    payload = event.payload
    parties = payload.get("party_organization_ids") or []
    if payload.get("to_status") != "PENDING" or not parties:
        return
    customer_organization_id = UUID(parties[0])
    with tenant_scope(customer_organization_id):
        try:
            service_order_match(
                actor=Actor.system(organization_id=customer_organization_id),
                service_order_id=UUID(payload["service_order_id"]),
            )
        except NotFound:
            return


# A change of these makes the earlier scores wrong (where, what skill, how urgent, when).
MATCHED_ON = {"latitude", "longitude", "required_skill", "urgency", "scheduled_start", "scheduled_end"}


def service_order_updated(event) -> None:
    """A PENDING order whose site, skill, urgency or window changed is matched again (the
    customer organization's event, in its scope): results nobody acted on are replaced."""
    from apps.core.actors import Actor
    from apps.core.errors import NotFound
    from apps.service.services import service_order_match

    if event.organization_id is None or not MATCHED_ON & set(event.payload.get("changed") or []):
        return
    try:
        service_order_match(
            actor=Actor.system(organization_id=event.organization_id),
            service_order_id=UUID(event.payload["service_order_id"]),
        )
    except NotFound:
        return
