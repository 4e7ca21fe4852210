"""PATCH/GET /api/v1/tracking/orders/{id}/carrier-tracking: the supplier attaches a carrier and
its tracking number (or detaches them); both parties see how the polling goes; others get 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.tenancy.roles import Role
from apps.tracking.models import Alert, TrackedShipment
from tests.factories import OrganizationFactory, member
from tests.tracking.carrier_support import new_number
from tests.tracking.factories import tracked_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def trade(sandbox_carrier):
    shipper, carrier = OrganizationFactory(), OrganizationFactory()
    with tenant_scope(shipper.id):
        shipment = tracked_order(shipper, carrier)
    return {
        "shipment": shipment,
        "shipper": member(shipper, Role.SHIPPER),
        "carrier": member(carrier, Role.CARRIER),
        "outsider": member(OrganizationFactory(), Role.CARRIER),
    }


def _url(shipment: TrackedShipment) -> str:
    return f"/api/v1/tracking/orders/{shipment.order_id}/carrier-tracking"


def _reloaded(shipment: TrackedShipment) -> TrackedShipment:
    with tenant_scope(shipment.supplier_organization_id):
        return TrackedShipment.objects.get(id=shipment.id)


def test_the_supplier_attaches_a_carrier_and_polling_is_due(api, trade):
    shipment, number = trade["shipment"], new_number()

    before = timezone.now()
    response = api(trade["carrier"]).patch(
        _url(shipment), {"carrier_code": "sandbox", "external_tracking_number": number}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["carrier_code"], body["external_tracking_number"]) == ("sandbox", number)
    assert body["polling"]["state"] == "scheduled" and body["polling"]["failures"] == 0
    attached = _reloaded(shipment)
    assert before <= attached.poll_next_at <= timezone.now()
    assert attached.poll_cursor == ""


def test_the_client_sees_the_polling_but_cannot_attach(api, trade):
    shipment = trade["shipment"]
    api(trade["carrier"]).patch(
        _url(shipment), {"carrier_code": "sandbox", "external_tracking_number": "CT1"}, format="json"
    )

    seen = api(trade["shipper"]).get(_url(shipment))
    refused = api(trade["shipper"]).patch(
        _url(shipment), {"carrier_code": "sandbox", "external_tracking_number": "OTHER"}, format="json"
    )

    assert seen.status_code == 200 and seen.json()["external_tracking_number"] == "CT1"
    assert refused.status_code == 403 and refused.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert _reloaded(shipment).external_tracking_number == "CT1"


@pytest.mark.parametrize("method", ["get", "patch"])
def test_an_organization_that_is_no_party_gets_404(api, trade, method):
    body = {"carrier_code": "sandbox", "external_tracking_number": "CT1"}

    response = getattr(api(trade["outsider"]), method)(_url(trade["shipment"]), body, format="json")

    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
    assert _reloaded(trade["shipment"]).external_tracking_number == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"carrier_code": "nobody", "external_tracking_number": "CT1"}, "carrier_code"),
        ({"carrier_code": "sandbox", "external_tracking_number": "CT 1/2"}, "external_tracking_number"),
        ({"carrier_code": "sandbox", "external_tracking_number": ""}, "external_tracking_number"),
        ({"carrier_code": "sandbox"}, "external_tracking_number"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(api, trade, body, field):
    response = api(trade["carrier"]).patch(_url(trade["shipment"]), body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["error_code"].startswith("VALIDATION_")
    assert field in str(response.json()["details"])
    assert _reloaded(trade["shipment"]).carrier_code == ""


def test_empty_values_detach_the_carrier(api, trade):
    client = api(trade["carrier"])
    client.patch(_url(trade["shipment"]), {"carrier_code": "sandbox", "external_tracking_number": "CT1"}, format="json")

    detach = {"carrier_code": "", "external_tracking_number": ""}
    response = client.patch(_url(trade["shipment"]), detach, format="json")

    assert response.status_code == 200
    assert response.json()["polling"]["state"] == "off"
    assert _reloaded(trade["shipment"]).poll_next_at is None


def test_attaching_again_restarts_a_stopped_polling_and_resolves_its_alert(api, trade, carrier_sandbox):
    # given a polling stopped after refusals, with its alert
    shipment, client = trade["shipment"], api(trade["carrier"])
    client.patch(_url(shipment), {"carrier_code": "sandbox", "external_tracking_number": "CT1"}, format="json")
    with tenant_scope(shipment.supplier_organization_id):
        TrackedShipment.objects.filter(id=shipment.id).update(
            poll_next_at=None, poll_stopped_at=timezone.now(), poll_failures=8, poll_error_code="unknown_number"
        )
        Alert.objects.create(
            shipment=shipment,
            client_organization_id=shipment.client_organization_id,
            supplier_organization_id=shipment.supplier_organization_id,
            alert_type="no_signal",
            severity="medium",
            message="stopped",
            condition_key="carrier_polling",
        )
    stopped = client.get(_url(shipment)).json()["polling"]

    # when the supplier attaches the number again
    attach = {"carrier_code": "sandbox", "external_tracking_number": "CT1"}
    response = client.patch(_url(shipment), attach, format="json")

    # then polling is due again from where it was, and the alert is resolved
    assert stopped["state"] == "stopped" and stopped["error_code"] == "unknown_number"
    assert response.json()["polling"] == {**response.json()["polling"], "state": "scheduled", "failures": 0}
    restarted = _reloaded(shipment)
    assert restarted.poll_stopped_at is None and restarted.poll_next_at <= timezone.now() + timedelta(seconds=1)
    with tenant_scope(shipment.supplier_organization_id):
        assert Alert.objects.get(shipment=shipment).status == "resolved"
