"""The alerts' beat jobs, run as beat runs them (tests/beat.py): an open high or critical alert
nobody acknowledged escalates once after TRACKING["ESCALATE_AFTER"], never a low or medium
one, never an acknowledged one; a shipment whose assigned device went silent for
TRACKING["NO_SIGNAL_AFTER"] gets one no-signal alert, one without a device or with recent
events none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.tenancy.roles import Role
from apps.tracking.models import Alert, TrackedShipment
from apps.tracking.services.alerts import alert_acknowledge, alert_raise, alert_resolve
from apps.tracking.tasks import tracking_escalate_alerts, tracking_no_signal
from tests.beat import run_beat_job
from tests.tracking.alert_support import alert_events, assign_device, party, stored_alert, track

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipper():
    return party(Role.SHIPPER)


@pytest.fixture
def carrier():
    return party(Role.CARRIER)


@pytest.fixture
def shipment(shipper, carrier):
    return track(shipper, carrier)


def alert_of_age(shipment, *, severity: str, age: timedelta, alert_type: str = "temperature") -> Alert:
    """A pipeline alert raised `age` ago."""
    with tenant_scope(shipment.supplier_organization_id):
        alert, _ = alert_raise(
            shipment=shipment,
            alert_type=alert_type,
            severity=severity,
            message="Out of range",
            condition_key=alert_type,
        )
        Alert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - age)
    return alert


def escalated() -> list[str]:
    return [event.payload["alert_id"] for event in alert_events("tracking.alert_escalated")]


def silence(shipment, *, for_: timedelta) -> None:
    """The shipment's last event came in `for_` ago."""
    with tenant_scope(shipment.client_organization_id):
        TrackedShipment.objects.filter(pk=shipment.pk).update(last_event_at=timezone.now() - for_)


def no_signal_alerts(shipment) -> list[Alert]:
    with system_scope(reason="test", audit=False):
        return list(Alert.objects.filter(shipment_id=shipment.id, alert_type="no_signal"))


LATE = settings.TRACKING["ESCALATE_AFTER"] + timedelta(minutes=1)
SILENT = settings.TRACKING["NO_SIGNAL_AFTER"] + timedelta(minutes=5)


# --- Escalation ----------------------------------------------------------------------------------


def test_an_unacknowledged_critical_alert_escalates_once_after_the_delay(shipment):
    alert = alert_of_age(shipment, severity="critical", age=LATE)

    first = run_beat_job(tracking_escalate_alerts)
    second = run_beat_job(tracking_escalate_alerts)

    assert (first, second) == ([1], [])
    assert escalated() == [str(alert.id)]
    stored = stored_alert(alert.id)
    assert stored.escalated_at is not None
    assert (stored.status, stored.severity) == ("open", "critical")


def test_a_high_alert_younger_than_the_delay_does_not_escalate(shipment):
    alert = alert_of_age(shipment, severity="high", age=settings.TRACKING["ESCALATE_AFTER"] - timedelta(minutes=1))

    run_beat_job(tracking_escalate_alerts)

    assert escalated() == []
    assert stored_alert(alert.id).escalated_at is None


@pytest.mark.parametrize("severity", ["low", "medium"])
def test_a_low_or_medium_alert_never_escalates(shipment, severity):
    alert = alert_of_age(shipment, severity=severity, age=timedelta(days=2))

    run_beat_job(tracking_escalate_alerts)

    assert escalated() == []
    assert stored_alert(alert.id).escalated_at is None


def test_an_acknowledged_alert_does_not_escalate(shipper, shipment):
    alert = alert_of_age(shipment, severity="critical", age=LATE)
    actor = Actor(user_id=shipper.staff.id, organization_id=shipper.org.id, role=Role.SHIPPER)
    with tenant_scope(shipper.org.id, user_id=shipper.staff.id):
        alert_acknowledge(actor=actor, alert_id=alert.id)

    run_beat_job(tracking_escalate_alerts)

    assert escalated() == []
    assert stored_alert(alert.id).escalated_at is None


# --- No signal -----------------------------------------------------------------------------------


def test_a_silent_shipment_with_a_device_gets_one_no_signal_alert(carrier, shipment):
    assign_device(carrier, shipment, since=timezone.now() - timedelta(hours=3))
    silence(shipment, for_=SILENT)

    first = run_beat_job(tracking_no_signal)
    second = run_beat_job(tracking_no_signal)

    assert (first, second) == ([1], [])
    [alert] = no_signal_alerts(shipment)
    assert (alert.status, alert.condition_key, alert.raised_by_id) == ("open", "no_signal", None)
    assert len(alert_events("tracking.alert_raised", alert.id)) == 1


def test_a_device_that_never_sent_anything_is_missed_too(carrier, shipment):
    assign_device(carrier, shipment, since=timezone.now() - SILENT)

    run_beat_job(tracking_no_signal)

    assert len(no_signal_alerts(shipment)) == 1


def test_a_silent_shipment_without_a_device_gets_no_alert(shipment):
    silence(shipment, for_=timedelta(days=1))

    run_beat_job(tracking_no_signal)

    assert no_signal_alerts(shipment) == []


def test_a_shipment_with_recent_events_gets_no_alert(carrier, shipment):
    assign_device(carrier, shipment, since=timezone.now() - timedelta(hours=3))
    silence(shipment, for_=timedelta(minutes=2))

    run_beat_job(tracking_no_signal)

    assert no_signal_alerts(shipment) == []


def test_a_device_assigned_moments_ago_is_given_the_time_to_report(carrier, shipment):
    assign_device(carrier, shipment, since=timezone.now() - timedelta(minutes=1))
    silence(shipment, for_=timedelta(days=1))

    run_beat_job(tracking_no_signal)

    assert no_signal_alerts(shipment) == []


def test_a_revoked_device_is_not_expected_to_report(carrier, shipment):
    assign_device(carrier, shipment, since=timezone.now() - timedelta(hours=3), revoked=True)
    silence(shipment, for_=SILENT)

    run_beat_job(tracking_no_signal)

    assert no_signal_alerts(shipment) == []


def test_a_resolved_no_signal_alert_lets_a_new_silence_raise_again(carrier, shipment):
    assign_device(carrier, shipment, since=timezone.now() - timedelta(hours=3))
    silence(shipment, for_=SILENT)
    run_beat_job(tracking_no_signal)
    [first] = no_signal_alerts(shipment)
    actor = Actor(user_id=carrier.staff.id, organization_id=carrier.org.id, role=Role.CARRIER)
    with tenant_scope(carrier.org.id, user_id=carrier.staff.id):
        alert_resolve(actor=actor, alert_id=first.id, note="Unit rebooted")

    run_beat_job(tracking_no_signal)

    assert sorted(alert.status for alert in no_signal_alerts(shipment)) == ["open", "resolved"]
