"""Alerts in the back-office: an organization admin sees its shipments' alerts with their
history, read-only, and acknowledges or resolves them through the services (history, audit,
event); a refused move names its alert; a third organization's admin sees none of them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog
from apps.tenancy.roles import Role
from apps.tracking.models import Alert, AlertStatusChange
from apps.tracking.services.alerts import alert_raise
from tests.factories import UserFactory
from tests.support import admin_client
from tests.tracking.alert_support import alert_events, party, stored_alert, track

pytestmark = pytest.mark.django_db

ALERTS = reverse("admin:tracking_alert_changelist")


@pytest.fixture
def shipper():
    return party(Role.SHIPPER)


@pytest.fixture
def carrier():
    return party(Role.CARRIER)


@pytest.fixture
def alert(shipper, carrier) -> Alert:
    shipment = track(shipper, carrier)
    with tenant_scope(carrier.org.id):
        raised, _ = alert_raise(
            shipment=shipment, alert_type="deviation", severity="high", message="Off the corridor", condition_key="d"
        )
    return raised


def act(user, action: str, alert: Alert):
    return admin_client(user).post(ALERTS, {"action": action, "_selected_action": [alert.pk]}, follow=True)


def test_each_party_admin_sees_the_alert_with_its_history_and_an_outsider_none(shipper, carrier, alert):
    outsider = party(Role.CARRIER)
    page = reverse("admin:tracking_alert_change", args=[alert.pk])

    listed = [admin_client(p.admin).get(ALERTS).content.decode() for p in (shipper, carrier, outsider)]
    shown = admin_client(shipper.admin).get(page)

    assert ["Off the corridor" in content for content in listed] == [True, True, False]
    assert shown.status_code == 200
    assert shown.context["inline_admin_formsets"][0].formset.queryset.count() == 1  # the raise
    assert admin_client(outsider.admin).get(page).status_code in (302, 404)


def test_the_admin_acknowledges_then_resolves_through_the_services(shipper, alert):
    acknowledged = act(shipper.admin, "acknowledge", alert)
    resolved = act(shipper.admin, "resolve", alert)

    assert acknowledged.status_code == resolved.status_code == 200
    stored = stored_alert(alert.id)
    assert stored.status == "resolved"
    assert stored.acknowledged_by_id == stored.resolved_by_id == shipper.admin.id
    with system_scope(reason="test reads the history and the audit log", audit=False):
        moves = list(AlertStatusChange.objects.filter(alert=alert).values_list("to_status", "by_id"))
        audited = set(AuditLog.objects.filter(resource_id=str(alert.id)).values_list("action", flat=True))
    assert moves == [("open", None), ("acknowledged", shipper.admin.id), ("resolved", shipper.admin.id)]
    assert {"tracking.alert_acknowledged", "tracking.alert_resolved"} <= audited
    assert len(alert_events("tracking.alert_resolved", alert.id)) == 1


def test_a_refused_move_is_named_and_changes_nothing(carrier, alert):
    act(carrier.admin, "resolve", alert)

    again = act(carrier.admin, "acknowledge", alert)

    assert "cannot go from resolved to acknowledged" in again.content.decode()
    assert stored_alert(alert.id).acknowledged_at is None


def test_platform_staff_resolve_an_alert_audited_as_themselves(alert):
    staff = UserFactory(is_staff=True, is_superuser=True)

    act(staff, "resolve", alert)

    stored = stored_alert(alert.id)
    assert (stored.status, stored.resolved_by_id) == ("resolved", staff.id)
    with system_scope(reason="test reads the audit log", audit=False):
        entry = AuditLog.objects.get(resource_id=str(alert.id), action="tracking.alert_resolved")
    assert entry.actor_id == staff.id
