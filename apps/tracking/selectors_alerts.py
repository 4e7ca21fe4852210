"""Reads of alerts: the alerts of the shipments an organization is a party of, with their
shipment's subject joined in; the tracked shipment an order or a package has; and, for the
beat jobs' discovery, which organizations have alerts to escalate or shipments gone silent."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from apps.core.errors import NotFound
from apps.tracking.models import (
    Alert,
    AlertStatus,
    AlertStatusChange,
    DeviceAssignment,
    Severity,
    TrackedShipment,
)

ESCALATING_SEVERITIES = (Severity.HIGH, Severity.CRITICAL)
# The condition key of the no-signal alert: the pipeline resolves it when pings come back.
NO_SIGNAL = "no_signal"
# The shipment columns an alert's representation shows: its route and geofences stay unread.
SHIPMENT_COLUMNS = (
    "shipment__id",
    "shipment__kind",
    "shipment__order_id",
    "shipment__package_id",
    "shipment__reference",
)


def _own_orders(customer_id: UUID | None) -> Q:
    """An `:own` grant reaches the shipments of the user's own orders, and of their packages."""
    if customer_id is None:
        return Q()
    return Q(shipment__order__customer_id=customer_id) | Q(shipment__package__order__customer_id=customer_id)


def alert_list(*, organization_id: UUID, customer_id: UUID | None = None) -> QuerySet[Alert]:
    """The alerts of the shipments the organization is a party of, newest first; with
    `customer_id` (an `:own` grant) only those of the user's own orders."""
    alert_columns = [field.attname for field in Alert._meta.concrete_fields]
    return (
        Alert.objects.visible_to(organization_id)
        .filter(_own_orders(customer_id))
        .select_related("shipment")
        .only(*alert_columns, *SHIPMENT_COLUMNS)
        .order_by("-created_at", "-id")
    )


def alert_get(*, organization_id: UUID, alert_id: UUID, customer_id: UUID | None = None) -> Alert:
    """One alert of the organization's shipments with its history, oldest move first; 404 otherwise."""
    alert = (
        alert_list(organization_id=organization_id, customer_id=customer_id)
        .filter(pk=alert_id)
        .prefetch_related(Prefetch("status_changes", queryset=AlertStatusChange.objects.order_by("at", "id")))
        .first()
    )
    if alert is None:
        raise NotFound("Alert not found.")
    return alert


def alert_for_update(*, organization_id: UUID, alert_id: UUID, customer_id: UUID | None = None) -> Alert:
    """One alert of the organization's shipments, locked until the transaction ends (its
    shipment read with it, unlocked); 404 otherwise. The lock serializes the people's moves and
    the pipeline's: an acknowledge racing a resolve sees the other's status."""
    rows = list(
        Alert.objects.visible_to(organization_id)
        .filter(_own_orders(customer_id), pk=alert_id)
        .select_related("shipment")
        .select_for_update(of=("self",))
    )
    if not rows:
        raise NotFound("Alert not found.")
    return rows[0]


def tracked_shipment_of(
    *,
    organization_id: UUID,
    order_id: UUID | None = None,
    package_id: UUID | None = None,
    customer_id: UUID | None = None,
) -> TrackedShipment:
    """The tracked shipment of the order or the package (one of them), if the organization is a
    party of it and the `:own` limit reaches it; 404 otherwise, and for one not tracked yet."""
    subject = {"order_id": order_id} if order_id is not None else {"package_id": package_id}
    reach = Q()
    if customer_id is not None:
        reach = Q(order__customer_id=customer_id) | Q(package__order__customer_id=customer_id)
    shipment = TrackedShipment.objects.visible_to(organization_id).filter(reach, **subject).first()
    if shipment is None:
        noun = "order" if order_id is not None else "package"
        raise NotFound(f"No tracking for this {noun}.", details={f"{noun}_id": ["Not tracked, or not yours."]})
    return shipment


def alerts_to_escalate(*, organization_id: UUID, now: datetime) -> QuerySet[Alert]:
    """Open high and critical alerts of the organization's shipments nobody acknowledged
    within TRACKING["ESCALATE_AFTER"], not escalated yet (served by alert_escalation_due_idx)."""
    return Alert.objects.visible_to(organization_id).filter(_escalation_due(now))


def _escalation_due(now: datetime) -> Q:
    return Q(
        status=AlertStatus.OPEN,
        escalated_at__isnull=True,
        severity__in=ESCALATING_SEVERITIES,
        created_at__lte=now - settings.TRACKING["ESCALATE_AFTER"],
    )


def escalation_due_organizations(*, now: datetime) -> list[UUID]:
    """The organizations that escalate the due alerts: each alert's supplier (the party moving
    the goods), once. Either party's scope sees the alert; one is enough, the move is idempotent.
    Called in a beat job's bypass scope."""
    return list(
        Alert.objects.filter(_escalation_due(now))
        .order_by()
        .values_list("supplier_organization_id", flat=True)
        .distinct()
    )


def _device_assigned(now: datetime, silent_since: datetime) -> Q:
    """Device assignments of a device that is not revoked, assigned since `silent_since` at
    least and still now."""
    return Q(device__revoked_at__isnull=True, valid_from__lte=silent_since) & (
        Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    )


def _silent(silent_since: datetime, prefix: str = "") -> Q:
    """Active shipments that sent nothing since `silent_since` (`prefix`: the path to the shipment)."""
    return Q(**{f"{prefix}is_active": True}) & (
        Q(**{f"{prefix}last_event_at__isnull": True}) | Q(**{f"{prefix}last_event_at__lt": silent_since})
    )


def _no_signal_open(shipment_ref: str) -> QuerySet[Alert]:
    """The no-signal alert still open on the shipment `shipment_ref` names (an outer column)."""
    return Alert.objects.filter(shipment=OuterRef(shipment_ref), condition_key=NO_SIGNAL).exclude(
        status=AlertStatus.RESOLVED
    )


def silent_shipments(*, organization_id: UUID, now: datetime) -> QuerySet[TrackedShipment]:
    """Active shipments with one of the organization's devices assigned for at least
    TRACKING["NO_SIGNAL_AFTER"], from which no event came in that time, that have no no-signal
    alert open. A device assigned more recently has not had the time to be missed.

    Device assignments are their owner's rows: only the organization whose device it is sees
    it, so that organization is the one that notices the silence."""
    silent_since = now - settings.TRACKING["NO_SIGNAL_AFTER"]
    assigned = DeviceAssignment.objects.filter(
        _device_assigned(now, silent_since), organization_id=organization_id, shipment=OuterRef("pk")
    )
    return (
        TrackedShipment.objects.visible_to(organization_id)
        .filter(_silent(silent_since), Exists(assigned))
        .exclude(Exists(_no_signal_open("pk")))
        .order_by("id")
    )


def no_signal_due_organizations(*, now: datetime) -> list[UUID]:
    """The organizations whose devices are assigned to shipments gone silent, not yet alerted
    (bypass scope): a truck parked for days is not fanned out to every five minutes."""
    silent_since = now - settings.TRACKING["NO_SIGNAL_AFTER"]
    return list(
        DeviceAssignment.objects.filter(_device_assigned(now, silent_since), _silent(silent_since, "shipment__"))
        .exclude(Exists(_no_signal_open("shipment_id")))
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
