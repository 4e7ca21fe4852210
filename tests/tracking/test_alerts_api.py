"""Alerts through the API: either party raises a manual alert on its order's shipment,
acknowledges and resolves alerts (who and when, with the history); a resolved alert stays
resolved; the list is the caller's shipments' alerts, filtered, in constant queries; a third
organization gets 404 for all of it."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog
from apps.tenancy.roles import Role
from apps.tracking.models import Alert, TrackedShipment
from apps.tracking.services.alerts import alert_raise
from tests.factories import member
from tests.tracking.alert_support import ALERTS, alert_events, party, stored_alert, track, track_for_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipper():
    return party(Role.SHIPPER)


@pytest.fixture
def carrier():
    return party(Role.CARRIER)


@pytest.fixture
def outsider():
    return party(Role.CARRIER)


@pytest.fixture
def shipment(shipper, carrier):
    return track(shipper, carrier)


def raise_manual(api, who, shipment, **overrides):
    body = {"order_id": str(shipment.order_id), "severity": "high", "message": "Seal broken at the border"}
    return api(who).post(ALERTS, body | overrides, format="json")


def move(api, who, alert, action: str, **body):
    return api(who).post(f"{ALERTS}/{alert.id}/{action}", body, format="json")


def pipeline_alert(shipment, *, severity="critical", alert_type="temperature") -> Alert:
    with tenant_scope(shipment.supplier_organization_id):
        alert, _ = alert_raise(
            shipment=shipment,
            alert_type=alert_type,
            severity=severity,
            message="8.4 °C for 20 minutes (range 2 to 8 °C)",
            condition_key=alert_type,
        )
    return alert


# --- Raising by hand ---------------------------------------------------------------------------


def test_the_shipper_raises_a_manual_alert_on_its_order(api, shipper, shipment):
    response = raise_manual(api, shipper.staff, shipment)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["alert_type"], body["severity"], body["status"]) == ("manual", "high", "open")
    assert body["raised_by"] == str(shipper.staff.id)
    assert body["subject"] == {"kind": "order", "id": str(shipment.order_id), "reference": shipment.reference}
    assert body["details"] == {"raised_by_organization_id": str(shipper.org.id)}
    assert [(move["from_status"], move["to_status"]) for move in body["history"]] == [("", "open")]
    [event] = alert_events("tracking.alert_raised", body["id"])
    assert event.organization_id == shipper.org.id


def test_the_carrier_raises_a_manual_alert_the_shipper_then_sees(api, shipper, carrier, shipment):
    response = raise_manual(api, carrier.staff, shipment, severity="medium", message="Delayed at the ferry")

    assert response.status_code == 201, response.json()
    listed = api(shipper.staff).get(ALERTS).json()["data"]
    assert [(row["id"], row["message"]) for row in listed] == [(response.json()["id"], "Delayed at the ferry")]


def test_a_manual_alert_names_the_order_or_the_package_not_both(api, shipper, shipment):
    both = raise_manual(api, shipper.staff, shipment, package_id=str(uuid.uuid4()))
    body = {"severity": "high", "message": "Seal broken"}
    neither = api(shipper.staff).post(ALERTS, body, format="json")

    assert (both.status_code, neither.status_code) == (400, 400)
    assert set(both.json()["details"]) == {"order_id", "package_id"}
    with system_scope(reason="test", audit=False):
        assert not Alert.objects.exists()


def test_a_manual_alert_with_an_unknown_severity_or_no_message_is_refused(api, shipper, shipment):
    unknown = raise_manual(api, shipper.staff, shipment, severity="apocalyptic")
    blank = raise_manual(api, shipper.staff, shipment, message="   ")

    assert (unknown.status_code, blank.status_code) == (400, 400)
    assert "severity" in unknown.json()["details"] and "message" in blank.json()["details"]
    with system_scope(reason="test", audit=False):
        assert not Alert.objects.exists()


def test_an_order_without_tracking_gets_404(api, shipper):
    response = api(shipper.staff).post(
        ALERTS, {"order_id": str(uuid.uuid4()), "severity": "low", "message": "Where is it?"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


def test_no_alert_is_raised_once_tracking_has_ended(api, shipper, shipment):
    with tenant_scope(shipper.org.id):
        TrackedShipment.objects.filter(pk=shipment.pk).update(is_active=False)

    response = raise_manual(api, shipper.staff, shipment)

    assert response.status_code == 422
    with system_scope(reason="test", audit=False):
        assert not Alert.objects.exists()


def test_a_role_without_the_alert_permission_cannot_raise_one(api, shipper, shipment):
    customer = member(shipper.org, Role.CUSTOMER)

    response = raise_manual(api, customer, shipment)

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


# --- Acknowledge and resolve -------------------------------------------------------------------


def test_acknowledged_then_resolved_the_alert_says_who_and_when_with_its_history(api, shipper, carrier, shipment):
    alert = pipeline_alert(shipment)

    acknowledged = move(api, shipper.staff, alert, "acknowledge", note="Calling the driver")
    resolved = move(api, carrier.staff, alert, "resolve", note="Door closed, back to 5 °C")

    assert (acknowledged.status_code, resolved.status_code) == (200, 200)
    body = resolved.json()
    assert body["status"] == "resolved"
    assert (body["acknowledged_by"], body["resolved_by"]) == (str(shipper.staff.id), str(carrier.staff.id))
    assert body["acknowledged_at"] <= body["resolved_at"]
    assert [(move["from_status"], move["to_status"], move["by"], move["reason"]) for move in body["history"]] == [
        ("", "open", None, alert.message),
        ("open", "acknowledged", str(shipper.staff.id), "Calling the driver"),
        ("acknowledged", "resolved", str(carrier.staff.id), "Door closed, back to 5 °C"),
    ]
    assert len(alert_events("tracking.alert_acknowledged", alert.id)) == 1
    assert len(alert_events("tracking.alert_resolved", alert.id)) == 1
    with system_scope(reason="test reads the audit log", audit=False):
        audited = set(AuditLog.objects.filter(resource_id=str(alert.id)).values_list("action", flat=True))
    assert {"tracking.alert_acknowledged", "tracking.alert_resolved"} <= audited


def test_an_open_alert_may_be_resolved_without_acknowledging_it(api, carrier, shipment):
    alert = pipeline_alert(shipment)

    response = api(carrier.staff).post(f"{ALERTS}/{alert.id}/resolve", {}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["acknowledged_at"]) == ("resolved", None)


def test_resolving_a_resolved_alert_is_refused_and_changes_nothing(api, shipper, carrier, shipment):
    alert = pipeline_alert(shipment)
    assert api(carrier.staff).post(f"{ALERTS}/{alert.id}/resolve").status_code == 200
    first = stored_alert(alert.id)

    again = api(shipper.staff).post(f"{ALERTS}/{alert.id}/resolve", {"note": "Me too"}, format="json")

    assert again.status_code == 422
    assert again.json()["error_code"] == "INVALID_STATE_TRANSITION"
    after = stored_alert(alert.id)
    assert (after.resolved_by_id, after.resolved_at) == (first.resolved_by_id, first.resolved_at)
    assert len(alert_events("tracking.alert_resolved", alert.id)) == 1


def test_acknowledging_a_resolved_alert_is_refused(api, carrier, shipment):
    alert = pipeline_alert(shipment)
    api(carrier.staff).post(f"{ALERTS}/{alert.id}/resolve")

    response = api(carrier.staff).post(f"{ALERTS}/{alert.id}/acknowledge")

    assert response.status_code == 422
    assert stored_alert(alert.id).acknowledged_at is None


# --- Another organization ----------------------------------------------------------------------


def test_a_third_organization_gets_404_for_the_alert_and_its_moves(api, outsider, shipment):
    alert = pipeline_alert(shipment)
    client = api(outsider.admin)

    answers = [
        client.get(f"{ALERTS}/{alert.id}").status_code,
        client.post(f"{ALERTS}/{alert.id}/acknowledge").status_code,
        client.post(f"{ALERTS}/{alert.id}/resolve").status_code,
        raise_manual(api, outsider.admin, shipment).status_code,
    ]

    assert answers == [404, 404, 404, 404]
    assert client.get(ALERTS).json()["data"] == []
    assert stored_alert(alert.id).status == "open"


# --- The list ----------------------------------------------------------------------------------


def test_the_list_filters_by_status_severity_type_and_order(api, shipper, carrier, shipment):
    other = track(shipper, carrier)
    temperature = pipeline_alert(shipment, severity="critical", alert_type="temperature")
    deviation = pipeline_alert(shipment, severity="medium", alert_type="deviation")
    elsewhere = pipeline_alert(other, severity="medium", alert_type="deviation")
    api(carrier.staff).post(f"{ALERTS}/{deviation.id}/resolve")
    client = api(shipper.staff)

    def ids(query: str) -> set[str]:
        response = client.get(f"{ALERTS}?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["data"]}

    assert ids("status=open") == {str(temperature.id), str(elsewhere.id)}
    assert ids("severity=critical") == {str(temperature.id)}
    assert ids("alert_type=deviation") == {str(deviation.id), str(elsewhere.id)}
    assert ids(f"order_id={other.order_id}") == {str(elsewhere.id)}
    assert client.get(f"{ALERTS}?severity=apocalyptic").status_code == 400


def test_the_list_runs_the_same_queries_for_one_alert_or_three(api, shipper, carrier, shipment):
    client = api(shipper.staff)
    pipeline_alert(shipment, alert_type="temperature")
    client.get(ALERTS)  # warm: the caller's compiled queries and cached flags
    with CaptureQueriesContext(connection) as one:
        assert client.get(ALERTS).json()["meta"]["total"] == 1
    pipeline_alert(shipment, alert_type="deviation")
    pipeline_alert(track(shipper, carrier), alert_type="delay")

    with CaptureQueriesContext(connection) as three:
        assert client.get(ALERTS).json()["meta"]["total"] == 3

    assert len(one.captured_queries) == len(three.captured_queries)


def test_a_customer_sees_the_alerts_of_its_own_orders_only(api, shipper, carrier, shipment):
    customer = member(shipper.org, Role.CUSTOMER)
    with tenant_scope(shipper.org.id):
        own = track_for_customer(shipper, carrier, customer)
    own_alert = pipeline_alert(own)
    other_alert = pipeline_alert(shipment)
    client = api(customer)

    listed = [row["id"] for row in client.get(ALERTS).json()["data"]]

    assert listed == [str(own_alert.id)]
    assert client.get(f"{ALERTS}/{own_alert.id}").status_code == 200
    assert client.get(f"{ALERTS}/{other_alert.id}").status_code == 404


def test_a_manual_alert_retried_with_the_same_idempotency_key_is_raised_once(api, shipper, shipment):
    client = api(shipper.staff)
    body = {"order_id": str(shipment.order_id), "severity": "low", "message": "Pallet count differs"}

    first = client.post(ALERTS, body, format="json", HTTP_IDEMPOTENCY_KEY="alert-1")
    again = client.post(ALERTS, body, format="json", HTTP_IDEMPOTENCY_KEY="alert-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    with system_scope(reason="test", audit=False):
        assert Alert.objects.count() == 1
