"""Alerts of a tracked shipment: raised by the ingest pipeline (one open alert per condition)
or by hand, acknowledged and resolved by people, escalated by a beat job.

The pipeline's two primitives are `alert_raise` (idempotent per condition key) and
`alert_resolve_condition` (the condition is over: the goods are back in the corridor, the
signal came back). Each move writes the alert's history and an outbox event in the caller's
transaction (apps.core.lifecycle.move).

People's moves (`alert_create_manual`, `alert_acknowledge`, `alert_resolve`) need
`tracking:alert`, which either party's roles that follow the goods hold: a shipper who sees a
temperature alert on its cargo acknowledges it without being able to post pings
(`tracking:create`) or change the route (`tracking:update`). The beat jobs' use cases
(`alerts_escalate_due`, `no_signal_check_due`) act for the current organization.

Escalation sets `escalated_at` and publishes `AlertEscalated`; the severity stays as it was:
it describes the condition (how far out of range, how long off the route), while escalation
says nobody answered in time, for the notifications to widen who is told."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import current_organization_id
from apps.core.errors import DomainError, ErrorCode, PermissionDenied, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.services import outbox_publish
from apps.orders.selectors import order_scope
from apps.tenancy.roles import Grant, actor_grant
from apps.tracking import events
from apps.tracking import selectors_alerts as selectors
from apps.tracking.models import Alert, AlertStatus, AlertType, Severity, TrackedShipment
from apps.tracking.transitions import ALERT

logger = logging.getLogger(__name__)

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


# --- People's moves -----------------------------------------------------------------------------

ALERT_PERMISSION = "tracking:alert"
MESSAGE_MAX_LENGTH = 500
NOTE_MAX_LENGTH = 1000


def _own_limit(actor: Actor) -> UUID | None:
    """The user whose own orders an `:own` grant limits the actor to (None: no limit). Staff in
    the back-office and the system reach every alert their scope shows; a member needs
    `tracking:alert` (403 otherwise)."""
    if actor.is_staff or actor.is_system:
        return None
    if actor_grant(actor, ALERT_PERMISSION) is Grant.NONE:
        raise PermissionDenied(f"Your role does not allow {ALERT_PERMISSION}.")
    return order_scope(actor=actor, permission=ALERT_PERMISSION).customer_id


def _acting_organization_id(actor: Actor) -> UUID | None:
    return actor.organization_id or current_organization_id()


def _checked_text(value: str, *, field: str, max_length: int, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(
            f"Give a {field}.", code=ErrorCode.VALIDATION_FIELD_REQUIRED, details={field: ["This field is required."]}
        )
    if len(text) > max_length:
        raise ValidationFailed(f"The {field} is too long.", details={field: [f"At most {max_length} characters."]})
    return text


@transaction.atomic
def alert_create_manual(
    *,
    actor: Actor,
    order_id: UUID | None = None,
    package_id: UUID | None = None,
    severity: str,
    message: str,
) -> Alert:
    """Raise a manual alert on the tracked shipment of an order or a package (one of them), as
    either party: its history, audit row and `AlertRaised` event with it. 400 on bad input,
    404 when the subject is not tracked or not the actor's, 422 once its tracking has ended."""
    if (order_id is None) == (package_id is None):
        named = ["Name the order or the package, not both."] if order_id else ["Name the order or the package."]
        raise ValidationFailed(
            "Name the order or the package the alert is about, one of them.",
            details={"order_id": named, "package_id": named},
        )
    if severity not in Severity.values:
        raise ValidationFailed("Unknown severity.", details={"severity": [f"One of {', '.join(Severity.values)}."]})
    message = _checked_text(message, field="message", max_length=MESSAGE_MAX_LENGTH, required=True)
    customer_id = _own_limit(actor)
    shipment = selectors.tracked_shipment_of(
        organization_id=_acting_organization_id(actor),
        order_id=order_id,
        package_id=package_id,
        customer_id=customer_id,
    )
    if not shipment.is_active:
        raise DomainError(
            "The tracking of this shipment has ended: an alert can no longer be raised on it.",
            details={"order_id" if order_id else "package_id": ["Tracking ended."]},
        )
    alert, _ = alert_raise(
        shipment=shipment,
        alert_type=AlertType.MANUAL,
        severity=severity,
        message=message,
        details={"raised_by_organization_id": str(_acting_organization_id(actor))},
        actor=actor,
    )
    logger.info("tracking.manual_alert_raised", extra={"alert_id": str(alert.id), "shipment_id": str(shipment.id)})
    return alert


def _person_moves(*, actor: Actor, alert_id: UUID, status: str, note: str) -> Alert:
    note = _checked_text(note, field="note", max_length=NOTE_MAX_LENGTH, required=False)
    customer_id = _own_limit(actor)
    alert = selectors.alert_for_update(
        organization_id=_acting_organization_id(actor), alert_id=alert_id, customer_id=customer_id
    )
    _move(alert, alert.shipment, status, actor=actor, reason=note)
    return alert


@transaction.atomic
def alert_acknowledge(*, actor: Actor, alert_id: UUID, note: str = "") -> Alert:
    """Acknowledge an open alert of the actor's shipments: who and when stamped, the note in
    its history, audited, `AlertAcknowledged` published; an acknowledged alert no longer
    escalates. Locks the alert. 404 for anyone else's, 422 INVALID_STATE_TRANSITION unless open."""
    return _person_moves(actor=actor, alert_id=alert_id, status=AlertStatus.ACKNOWLEDGED, note=note)


@transaction.atomic
def alert_resolve(*, actor: Actor, alert_id: UUID, note: str = "") -> Alert:
    """Resolve an open or acknowledged alert of the actor's shipments: who and when stamped, the
    note in its history, audited, `AlertResolved` published. Locks the alert. 404 for anyone
    else's, 422 INVALID_STATE_TRANSITION once resolved. A pipeline condition resolved by hand
    that still holds is raised again by the pipeline's next ping."""
    return _person_moves(actor=actor, alert_id=alert_id, status=AlertStatus.RESOLVED, note=note)


# --- Beat jobs ----------------------------------------------------------------------------------


@transaction.atomic
def alerts_escalate_due(*, now: datetime | None = None) -> int:
    """Escalate the current organization's open high and critical alerts that nobody
    acknowledged within TRACKING["ESCALATE_AFTER"]: `escalated_at` set, audited,
    `AlertEscalated` published, each once. Returns how many escalated.

    Locks the due alerts, skipping those a person is moving right now (the next run sees
    what they left: an acknowledged alert no longer escalates)."""
    now = now or timezone.now()
    organization_id = current_organization_id()
    due = list(
        selectors.alerts_to_escalate(organization_id=organization_id, now=now)
        .select_related("shipment")
        .select_for_update(of=("self",), skip_locked=True)
        .order_by("created_at", "id")
    )
    for alert in due:
        alert.escalated_at = now
        alert.save(update_fields=["escalated_at", "updated_at"])
        audit_record(
            action="tracking.alert_escalated",
            resource_type="tracking_alert",
            resource_id=alert.id,
            old_values={"escalated_at": None},
            new_values={"escalated_at": now.isoformat(), "severity": alert.severity},
            organization_id=organization_id,
            actor=SYSTEM,
        )
        outbox_publish(_alert_event(events.AlertEscalated, alert, alert.shipment))
    if due:
        logger.info("tracking.alerts_escalated", extra={"count": len(due)})
    return len(due)


def alerts_escalation_due_organizations(*, now: datetime | None = None) -> list[UUID]:
    """The organizations with alerts to escalate (the beat job's discovery, bypass scope)."""
    return selectors.escalation_due_organizations(now=now or timezone.now())


NO_SIGNAL_SEVERITY = Severity.MEDIUM


@transaction.atomic
def no_signal_check_due(*, now: datetime | None = None) -> int:
    """Raise a `no_signal` alert on each active shipment of the current organization's that
    one of its devices is assigned to and from which nothing came for TRACKING["NO_SIGNAL_AFTER"]
    (once: condition key "no_signal", resolved by the pipeline when pings come back). Returns
    how many were raised.

    Locks those shipments, skipping any an ingest batch holds: pings are coming in."""
    now = now or timezone.now()
    silence = settings.TRACKING["NO_SIGNAL_AFTER"]
    minutes = int(silence.total_seconds() // 60)
    silent = selectors.silent_shipments(organization_id=current_organization_id(), now=now).select_for_update(
        skip_locked=True
    )
    raised = 0
    for shipment in silent:
        heard = shipment.last_event_at
        _, created = alert_raise(
            shipment=shipment,
            alert_type=AlertType.NO_SIGNAL,
            severity=NO_SIGNAL_SEVERITY,
            message=f"No signal from the tracking device for more than {minutes} minutes.",
            condition_key=selectors.NO_SIGNAL,
            details={"last_event_at": heard.isoformat() if heard else None, "checked_at": now.isoformat()},
        )
        raised += created
    if raised:
        logger.info("tracking.no_signal_raised", extra={"count": raised})
    return raised


def no_signal_due_organizations(*, now: datetime | None = None) -> list[UUID]:
    """The organizations whose devices went silent on a shipment (discovery, bypass scope)."""
    return selectors.no_signal_due_organizations(now=now or timezone.now())
