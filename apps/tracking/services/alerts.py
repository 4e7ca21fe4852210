"""Alerts of a tracked shipment: raised by the ingest pipeline (one open alert per condition)
or by hand, acknowledged and resolved by people, escalated by a beat job.

The pipeline's two primitives are `alert_raise` (idempotent per condition key) and
`alert_resolve_condition` (the condition is over: the goods are back in the corridor, the
signal came back). Each move writes the alert's history and an outbox event in the caller's
transaction (apps.core.lifecycle.move)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import current_organization_id
from apps.core.lifecycle import history_record, move
from apps.core.services import outbox_publish
from apps.tracking import events
from apps.tracking.models import Alert, AlertStatus, Severity, TrackedShipment
from apps.tracking.transitions import ALERT

SYSTEM = Actor(user_id=None)


def shipment_event_fields(shipment: TrackedShipment) -> dict:
    """The fields every tracking event names: the shipment, its subject and its parties. The
    outbox row is the acting organization's (the only one this transaction may write for)."""
    return {
        "organization_id": current_organization_id() or shipment.supplier_organization_id,
        "shipment_id": str(shipment.id),
        "subject": shipment.kind,
        "subject_id": str(shipment.order_id or shipment.package_id),
        "reference": shipment.reference,
        "party_organization_ids": sorted(
            {str(shipment.client_organization_id), str(shipment.supplier_organization_id)}
        ),
    }


def _alert_event(event_class, alert: Alert, shipment: TrackedShipment):
    return event_class(
        **shipment_event_fields(shipment),
        alert_id=str(alert.id),
        alert_type=alert.alert_type,
        severity=alert.severity,
        status=alert.status,
        message=alert.message,
    )


@transaction.atomic
def alert_raise(
    *,
    shipment: TrackedShipment,
    alert_type: str,
    severity: str,
    message: str,
    condition_key: str = "",
    details: dict | None = None,
    actor: Actor = SYSTEM,
) -> tuple[Alert, bool]:
    """Open an alert on the shipment: (alert, raised). With a `condition_key`, an alert still
    open (or acknowledged) for the same condition is returned as it is and nothing is written:
    the pipeline raises "deviation" once, however many pings stay outside."""
    if condition_key:
        current = (
            Alert.objects.filter(shipment=shipment, condition_key=condition_key)
            .exclude(status=AlertStatus.RESOLVED)
            .first()
        )
        if current is not None:
            return current, False
    alert = Alert.objects.create(
        shipment=shipment,
        client_organization_id=shipment.client_organization_id,
        supplier_organization_id=shipment.supplier_organization_id,
        alert_type=alert_type,
        severity=severity,
        message=message[:500],
        details=details or {},
        condition_key=condition_key,
        raised_by_id=actor.user_id,
    )
    history_record(alert, transitions=ALERT, from_status="", to_status=alert.status, actor=actor, reason=message)
    audit_record(
        action="tracking.alert_raised",
        resource_type="tracking_alert",
        resource_id=alert.id,
        new_values={"alert_type": alert_type, "severity": severity, "shipment": str(shipment.id)},
        organization_id=current_organization_id() or shipment.supplier_organization_id,
        actor=actor,
    )
    outbox_publish(_alert_event(events.AlertRaised, alert, shipment))
    return alert, True


SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


@transaction.atomic
def alert_worsen(*, alert: Alert, shipment: TrackedShipment, severity: str, details: dict | None = None) -> bool:
    """Raise an unresolved alert's severity to `severity` as its condition worsens; never
    lowers it (a person may already act on the higher one). Whether it changed."""
    if alert.status == AlertStatus.RESOLVED or SEVERITY_RANK[severity] <= SEVERITY_RANK[alert.severity]:
        return False
    previous = alert.severity
    alert.severity = severity
    alert.details = {**alert.details, **(details or {})}
    alert.save(update_fields=["severity", "details", "updated_at"])
    audit_record(
        action="tracking.alert_worsened",
        resource_type="tracking_alert",
        resource_id=alert.id,
        old_values={"severity": previous},
        new_values={"severity": severity},
        organization_id=current_organization_id() or shipment.supplier_organization_id,
        actor=SYSTEM,
    )
    outbox_publish(
        events.AlertWorsened(
            **shipment_event_fields(shipment),
            alert_id=str(alert.id),
            alert_type=alert.alert_type,
            severity=alert.severity,
            status=alert.status,
            message=alert.message,
            previous_severity=previous,
        )
    )
    return True


@transaction.atomic
def alert_resolve_condition(*, shipment: TrackedShipment, condition_key: str, reason: str) -> Alert | None:
    """Resolve the open alert of a condition that is over, as the system; None when none is open."""
    alert = (
        Alert.objects.select_for_update()
        .filter(shipment=shipment, condition_key=condition_key)
        .exclude(status=AlertStatus.RESOLVED)
        .first()
    )
    if alert is None:
        return None
    _move(alert, shipment, AlertStatus.RESOLVED, actor=SYSTEM, reason=reason)
    return alert


def _move(alert: Alert, shipment: TrackedShipment, status: str, *, actor: Actor, reason: str) -> None:
    """Move a locked alert, stamping who and when; history, audit and event with the move."""
    now = timezone.now()
    stamped = []
    if status == AlertStatus.ACKNOWLEDGED:
        alert.acknowledged_by_id, alert.acknowledged_at = actor.user_id, now
        stamped = ["acknowledged_by", "acknowledged_at"]
    elif status == AlertStatus.RESOLVED:
        alert.resolved_by_id, alert.resolved_at = actor.user_id, now
        stamped = ["resolved_by", "resolved_at"]
    event_class = {AlertStatus.ACKNOWLEDGED: events.AlertAcknowledged, AlertStatus.RESOLVED: events.AlertResolved}
    move(
        alert,
        status,
        transitions=ALERT,
        actor=actor,
        reason=reason,
        save=[*stamped, "updated_at"],
        audit={
            "action": f"tracking.alert_{status}",
            "resource_type": "tracking_alert",
            "organization_id": current_organization_id() or shipment.supplier_organization_id,
        },
        event=lambda: _alert_event(event_class[status], alert, shipment),
    )
