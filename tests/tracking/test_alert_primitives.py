"""The pipeline's alert primitives: one open alert per condition, resolved when the condition
is over, each move with its history row and its event in the outbox."""

from __future__ import annotations

import pytest

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.tracking.models import Alert, AlertStatusChange
from apps.tracking.services.alerts import alert_raise, alert_resolve_condition
from tests.factories import OrganizationFactory
from tests.tracking.factories import tracked_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipment():
    shipper, carrier = OrganizationFactory(), OrganizationFactory()
    with tenant_scope(shipper.id):
        return tracked_order(shipper, carrier)


def _raise(shipment):
    return alert_raise(
        shipment=shipment,
        alert_type="deviation",
        severity="medium",
        message="Off the planned route",
        condition_key="deviation",
    )


def test_a_condition_raises_one_alert_however_often_it_is_seen(shipment):
    with tenant_scope(shipment.supplier_organization_id):
        first, raised = _raise(shipment)
        again, raised_again = _raise(shipment)

    assert (raised, raised_again) == (True, False)
    assert again.id == first.id
    with system_scope(reason="test", audit=False):
        assert Alert.objects.count() == 1
        assert OutboxEvent.objects.filter(event_type="tracking.alert_raised").count() == 1


def test_a_condition_that_is_over_resolves_its_alert_and_a_new_one_may_open(shipment):
    with tenant_scope(shipment.supplier_organization_id):
        first, _ = _raise(shipment)
        resolved = alert_resolve_condition(shipment=shipment, condition_key="deviation", reason="Back on the route")
        nothing = alert_resolve_condition(shipment=shipment, condition_key="deviation", reason="Again")
        second, raised = _raise(shipment)

    assert resolved.id == first.id and resolved.status == "resolved" and resolved.resolved_at is not None
    assert nothing is None
    assert raised and second.id != first.id
    with system_scope(reason="test", audit=False):
        history = list(AlertStatusChange.objects.filter(alert=first).values_list("from_status", "to_status"))
        event = OutboxEvent.objects.get(event_type="tracking.alert_resolved")
    assert history == [("", "open"), ("open", "resolved")]
    assert event.payload["subject"] == "order" and event.payload["subject_id"] == str(shipment.order_id)
    assert sorted(event.payload["party_organization_ids"]) == sorted(
        [str(shipment.client_organization_id), str(shipment.supplier_organization_id)]
    )
