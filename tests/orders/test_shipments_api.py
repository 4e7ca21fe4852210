"""The shipment of a freight order: handed over from the award, read by both parties and nobody
else, edited by each party within its part and stage, amended with history after loading, and
checked for completeness before the goods move."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.errors import ValidationFailed
from apps.core.models import OutboxEvent
from apps.orders import services as order_services
from apps.orders.models import Order, Shipment
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.marketplace.conftest import Party, offer_body
from tests.marketplace.factories import HAMBURG, VerificationFactory
from tests.support import admin_client

pytestmark = pytest.mark.django_db

KAZAN = {"country": "RU", "city": "Kazan", "address": "Sibirsky trakt 34", "latitude": 55.79, "longitude": 49.12}
MINSK = {"country": "BY", "city": "Minsk", "address": "", "latitude": 53.9, "longitude": 27.56}
CONSIGNEE = {"name": "Kazan Machine Works", "address_lines": ["Sibirsky trakt 34"], "city": "Kazan", "country": "RU"}


def _party(name: str, role: str, **address) -> Party:
    organization = OrganizationFactory(name=name, **address)
    VerificationFactory(organization=organization)
    return Party(org=organization, admin=member(organization, Role.ORG_ADMIN), staff=member(organization, role))


@pytest.fixture
def shipper():
    return _party(
        "Baltic Shippers",
        Role.SHIPPER,
        legal_name="Baltic Shippers GmbH",
        address_line1="Kai 1",
        postal_code="20457",
        city="Hamburg",
        country="DE",
        tax_id="DE123456789",
    )


@pytest.fixture
def carrier():
    return _party("Volga Carriers", Role.CARRIER)


@pytest.fixture
def awarded(api, shipper, carrier) -> dict:
    """500 kg of chilled, dangerous goods on 2 pallets, Hamburg → Minsk → Kazan, awarded to the
    carrier; returns the order id."""
    rfq = api(shipper.staff).post(
        "/api/v1/rfqs",
        {
            "title": "Lab reagents",
            "weight_kg": "500",
            "volume_cbm": "2.5",
            "length_cm": 120,
            "width_cm": 80,
            "height_cm": 150,
            "pallet_count": 2,
            "cargo_type": "refrigerated",
            "hazmat_class": "3",
            "temperature_min_c": "2",
            "temperature_max_c": "8",
            "currency": "EUR",
            "declared_value": "25000.00",
            "service_type": "road_ftl",
            "segments": [
                {"origin": HAMBURG, "destination": MINSK, "pickup_date": "2027-01-11"},
                {"origin": MINSK, "destination": KAZAN, "pickup_date": "2027-01-13", "delivery_date": "2027-01-15"},
            ],
            "deadline": (timezone.now() + timedelta(days=3)).isoformat(),
        },
        format="json",
    )
    assert rfq.status_code == 201, rfq.json()
    rfq_id = rfq.json()["id"]
    assert api(shipper.staff).post(f"/api/v1/rfqs/{rfq_id}/publish").status_code == 200
    offer = api(carrier.staff).post(f"/api/v1/rfqs/{rfq_id}/offers", offer_body(price="2450.00"), format="json")
    assert offer.status_code == 201, offer.json()
    accepted = api(shipper.staff).post(f"/api/v1/offers/{offer.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.json()
    return {"order_id": accepted.json()["order"], "rfq_number": rfq.json()["number"]}


def _url(order_id) -> str:
    return f"/api/v1/orders/{order_id}/shipment"


def _move(api, party, order_id, status):
    return api(party.staff).post(f"/api/v1/orders/{order_id}/status", {"status": status}, format="json")


def _complete(api, shipper, carrier, order_id) -> None:
    """What the award cannot know: the consignee, the carrier's address, the truck."""
    carrier_party = {"name": "Volga Carriers", "address_lines": ["Portovaya 5"], "city": "Samara", "country": "RU"}
    by_shipper = api(shipper.staff).patch(_url(order_id), {"consignee": CONSIGNEE}, format="json")
    assert by_shipper.status_code == 200, by_shipper.json()
    by_carrier = api(carrier.staff).patch(
        _url(order_id), {"vehicle_plate": "A123BC 163", "carrier": carrier_party}, format="json"
    )
    assert by_carrier.status_code == 200, by_carrier.json()


def _events(event_type: str, order_id) -> list[OutboxEvent]:
    with system_scope(reason="test: the events", audit=False):
        return list(OutboxEvent.objects.filter(event_type=event_type, aggregate_id=str(order_id)))


def test_the_award_hands_the_rfq_and_the_offer_over_to_the_shipment(api, shipper, awarded):
    body = api(shipper.staff).get(_url(awarded["order_id"])).json()

    [line] = body["cargo_lines"]
    assert Decimal(line["gross_weight_kg"]) == Decimal("500")  # never 0
    assert Decimal(line["volume_m3"]) == Decimal("2.5")
    assert line["number_of_packages"] == 2
    assert line["dimensions"] == {"length_cm": 120, "width_cm": 80, "height_cm": 150}
    assert line["dangerous_goods"]["adr_class"] == "3"
    assert (Decimal(line["temperature"]["min_c"]), Decimal(line["temperature"]["max_c"])) == (2, 8)
    assert line["declared_value"]["currency"] == "EUR"
    assert body["shipper"]["name"] == "Baltic Shippers GmbH"
    assert (body["shipper"]["address_lines"], body["shipper"]["city"], body["shipper"]["country"]) == (
        ["Kai 1"],
        "Hamburg",
        "DE",
    )
    assert body["carrier"]["name"] == "Volga Carriers"
    assert (body["taking_over"]["city"], body["taking_over"]["date"]) == ("Hamburg", "2027-01-11")
    assert (body["delivery"]["city"], body["delivery"]["country"], body["delivery"]["date_until"]) == (
        "Kazan",
        "RU",
        "2027-01-15",
    )
    assert body["delivery"]["address_lines"] == ["Sibirsky trakt 34"]
    assert [(point["kind"], point["place"]["city"]) for point in body["route"]] == [
        ("pickup", "Hamburg"),
        ("stop", "Minsk"),
        ("delivery", "Kazan"),
    ]
    assert f"Awarded on {awarded['rfq_number']}: 2450.00 EUR, 2 day(s) in transit" in body["special_agreements"]
    assert "Road, full truckload" in body["special_agreements"]
    assert body["customer_reference"] == awarded["rfq_number"]
    # the metadata other code reads stays as it was
    with system_scope(reason="test: the order", audit=False):
        assert Order.objects.get(pk=awarded["order_id"]).metadata["cargo"]["weight_kg"].startswith("500")


def test_both_parties_read_the_shipment_and_a_third_organization_gets_404(api, shipper, carrier, awarded):
    outsider = member(OrganizationFactory(name="Rhein Logistik"), Role.CARRIER)

    by_shipper = api(shipper.staff).get(_url(awarded["order_id"]))
    by_carrier = api(carrier.staff).get(_url(awarded["order_id"]))
    by_outsider = api(outsider).get(_url(awarded["order_id"]))
    patched = api(outsider).patch(_url(awarded["order_id"]), {"vehicle_plate": "X"}, format="json")

    assert by_shipper.status_code == by_carrier.status_code == 200
    assert by_shipper.json()["id"] == by_carrier.json()["id"]
    assert by_outsider.status_code == 404
    assert by_outsider.json()["error_code"] == "NOT_FOUND"
    assert patched.status_code == 404


def test_the_shipper_edits_its_part_before_loading_without_an_amendment(api, shipper, awarded):
    response = api(shipper.staff).patch(
        _url(awarded["order_id"]), {"consignee": CONSIGNEE, "sender_instructions": "Keep upright."}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = api(shipper.staff).get(_url(awarded["order_id"])).json()
    assert body["consignee"] == CONSIGNEE
    assert body["sender_instructions"] == "Keep upright."
    assert body["amendments"] == []
    [event] = _events("shipment.updated", awarded["order_id"])
    assert sorted(event.payload["fields"]) == ["consignee", "sender_instructions"]


def test_the_carrier_edits_its_part(api, carrier, awarded):
    response = api(carrier.staff).patch(
        _url(awarded["order_id"]), {"vehicle_plate": "A123BC 163", "driver_name": "Ivan Petrov"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["vehicle_plate"], response.json()["driver_name"]) == ("A123BC 163", "Ivan Petrov")


def test_the_carrier_editing_the_consignee_is_refused_and_nothing_changes(api, carrier, awarded):
    response = api(carrier.staff).patch(
        _url(awarded["order_id"]), {"consignee": CONSIGNEE, "vehicle_plate": "A123BC 163"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert list(response.json()["details"]) == ["consignee"]
    body = api(carrier.staff).get(_url(awarded["order_id"])).json()
    assert (body["consignee"], body["vehicle_plate"]) == ({}, "")
    assert _events("shipment.updated", awarded["order_id"]) == []


def test_the_shipper_cannot_edit_the_carriers_part(api, shipper, awarded):
    response = api(shipper.staff).patch(_url(awarded["order_id"]), {"driver_name": "Nobody"}, format="json")

    assert response.status_code == 403
    assert list(response.json()["details"]) == ["driver_name"]


def test_an_invalid_value_is_refused_with_the_field_named(api, shipper, awarded):
    response = api(shipper.staff).patch(
        _url(awarded["order_id"]), {"consignee": {"country": "XX"}, "colour": "red"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["details"]) == {"consignee", "colour"}


def test_completeness_lists_the_missing_fields_and_holds_the_order_before_transit(api, shipper, carrier, awarded):
    order_id = awarded["order_id"]
    completeness = api(shipper.staff).get(_url(order_id)).json()["completeness"]
    assert _move(api, carrier, order_id, "confirmed").status_code == 200

    response = _move(api, carrier, order_id, "in_transit")

    assert completeness["complete"] is False
    missing = {item["field"]: item["reason"] for item in completeness["missing"]}
    assert "CMR box 2" in missing["consignee.name"]
    assert "CMR box 16" in missing["carrier.address_lines"]
    assert "vehicle_plate" in missing
    assert "shipper.name" not in missing and "cargo_lines[0].gross_weight_kg" not in missing
    # a hazmat class without a UN number is not enough for ADR
    assert "cargo_lines[0].dangerous_goods.un_number" in missing
    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert {item["field"] for item in response.json()["details"]["missing"]} == set(missing)
    assert api(carrier.staff).get(f"/api/v1/orders/{order_id}").json()["status"] == "confirmed"


def _load(api, shipper, carrier, order_id):
    _complete(api, shipper, carrier, order_id)
    line = api(shipper.staff).get(_url(order_id)).json()["cargo_lines"][0]
    line["dangerous_goods"]["un_number"] = "1170"
    assert api(shipper.staff).patch(_url(order_id), {"cargo_lines": [line]}, format="json").status_code == 200
    assert api(shipper.staff).get(_url(order_id)).json()["completeness"] == {"complete": True, "missing": []}
    assert _move(api, carrier, order_id, "confirmed").status_code == 200
    moved = _move(api, carrier, order_id, "in_transit")
    assert moved.status_code == 200, moved.json()


def test_a_shipper_edit_after_loading_is_an_amendment_with_history(api, shipper, carrier, awarded):
    order_id = awarded["order_id"]
    _load(api, shipper, carrier, order_id)
    new_consignee = {**CONSIGNEE, "name": "Kazan Machine Works, warehouse 2"}

    response = api(shipper.staff).patch(_url(order_id), {"consignee": new_consignee}, format="json")

    assert response.status_code == 200, response.json()
    [amendment] = api(carrier.staff).get(_url(order_id)).json()["amendments"]
    assert amendment["changed_fields"] == ["consignee"]
    assert amendment["old_values"] == {"consignee": CONSIGNEE}
    assert amendment["new_values"] == {"consignee": new_consignee}
    assert amendment["order_status"] == "in_transit"
    assert amendment["amended_by"] == str(shipper.staff.id)
    [event] = _events("shipment.amended", order_id)
    assert event.payload["amendment_id"] == amendment["id"]


def test_a_closed_order_s_shipment_no_longer_changes(api, shipper, awarded):
    cancelled = api(shipper.staff).post(
        f"/api/v1/orders/{awarded['order_id']}/cancel", {"reason": "Plans changed."}, format="json"
    )
    assert cancelled.status_code == 200, cancelled.json()

    response = api(shipper.staff).patch(_url(awarded["order_id"]), {"sender_instructions": "x"}, format="json")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_reading_a_shipment_runs_the_same_queries_for_one_amendment_or_four(api, shipper, carrier, awarded):
    order_id = awarded["order_id"]
    _load(api, shipper, carrier, order_id)
    client = api(shipper.staff)

    def amend(name):
        assert client.patch(_url(order_id), {"sender_instructions": name}, format="json").status_code == 200

    amend("first")
    client.get(_url(order_id))  # warm: the caller's compiled queries
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(_url(order_id)).json()["amendments"]) == 1
    for name in ("second", "third", "fourth"):
        amend(name)
    with CaptureQueriesContext(connection) as four:
        assert len(client.get(_url(order_id)).json()["amendments"]) == 4

    assert len(one.captured_queries) == len(four.captured_queries)
    with system_scope(reason="test", audit=False):
        assert Shipment.objects.get(order_id=order_id).amendments.count() == 4


def test_both_parties_admins_read_the_shipment_with_its_amendments_in_the_back_office(api, shipper, carrier, awarded):
    order_id = awarded["order_id"]
    _load(api, shipper, carrier, order_id)
    api(shipper.staff).patch(_url(order_id), {"sender_instructions": "Ring twice."}, format="json")
    with system_scope(reason="test", audit=False):
        shipment = Shipment.objects.get(order_id=order_id)
    outsider = admin_client(member(OrganizationFactory(name="Rhein Logistik"), Role.ORG_ADMIN))

    page = admin_client(carrier.admin).get(reverse("admin:orders_shipment_change", args=[shipment.pk]))
    listed = outsider.get(reverse("admin:orders_shipment_changelist")).content.decode()
    own_list = admin_client(carrier.admin).get(reverse("admin:orders_shipment_changelist")).content.decode()

    assert page.status_code == 200
    assert "Ring twice." in page.content.decode()
    assert "sender_instructions" in page.content.decode()  # the amendment's changed fields
    assert "Hamburg, DE" in own_list
    assert "Hamburg, DE" not in listed


# --- Proof of delivery: who took the goods over, and when ----------------------------------------


def test_the_carrier_records_who_took_the_goods_and_the_shipper_cannot(api, shipper, carrier, awarded):
    order_id = awarded["order_id"]
    delivered = {"received_by": "Rustam Khaliullin", "delivered_at": "2027-01-15T14:20:00+03:00"}

    refused = api(shipper.staff).patch(_url(order_id), delivered, format="json")
    recorded = api(carrier.staff).patch(_url(order_id), delivered, format="json")

    assert refused.status_code == 403
    assert set(refused.json()["details"]) == {"received_by", "delivered_at"}
    assert recorded.status_code == 200, recorded.json()
    body = api(shipper.staff).get(_url(order_id)).json()
    assert body["received_by"] == "Rustam Khaliullin"
    assert body["delivered_at"].startswith("2027-01-15T11:20:00")  # the same moment, in UTC


def test_an_amended_delivery_time_keeps_the_old_and_new_moment(api, shipper, carrier, awarded):
    order_id = awarded["order_id"]
    _load(api, shipper, carrier, order_id)

    first = api(carrier.staff).patch(_url(order_id), {"delivered_at": "2027-01-15T11:20:00Z"}, format="json")
    again = api(carrier.staff).patch(_url(order_id), {"delivered_at": "2027-01-15T11:20:00Z"}, format="json")

    assert (first.status_code, again.status_code) == (200, 200)
    [amendment] = api(carrier.staff).get(_url(order_id)).json()["amendments"]  # the same moment twice: one change
    assert amendment["old_values"] == {"delivered_at": None}
    assert amendment["new_values"]["delivered_at"].startswith("2027-01-15T11:20:00")


def test_the_move_to_delivered_records_the_time_unless_the_carrier_gave_one(api, shipper, carrier, awarded):
    order_id = awarded["order_id"]
    _load(api, shipper, carrier, order_id)
    before = timezone.now()

    moved = _move(api, carrier, order_id, "delivered")

    assert moved.status_code == 200, moved.json()
    recorded = api(shipper.staff).get(_url(order_id)).json()["delivered_at"]
    assert before <= datetime.fromisoformat(recorded) <= timezone.now()


def test_a_delivery_time_the_carrier_gave_is_kept_by_the_move(api, shipper, carrier, awarded):
    order_id = awarded["order_id"]
    _load(api, shipper, carrier, order_id)
    given = api(carrier.staff).patch(_url(order_id), {"delivered_at": "2027-01-15T11:20:00Z"}, format="json")
    assert given.status_code == 200

    assert _move(api, carrier, order_id, "delivered").status_code == 200

    assert api(shipper.staff).get(_url(order_id)).json()["delivered_at"].startswith("2027-01-15T11:20:00")


# --- Every freight order has a shipment ----------------------------------------------------------


def _plain_freight_order(shipper, carrier) -> Order:
    with tenant_scope(shipper.org.id, user_id=shipper.staff.id):
        return order_services.order_create(
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=shipper.org.id,
                supplier_organization_id=carrier.org.id,
                currency="EUR",
                items=[order_services.ItemInput(name="FTL Hamburg → Kazan", quantity=1, unit_price=Decimal("2450"))],
            ),
            actor=Actor(user_id=shipper.staff.id),
        )


def test_a_freight_order_made_without_shipment_details_has_an_empty_shipment_that_holds_it(api, shipper, carrier):
    order = _plain_freight_order(shipper, carrier)
    for status in ("pending", "confirmed"):
        party = shipper if status == "pending" else carrier
        assert _move(api, party, order.id, status).status_code == 200

    shipment = api(shipper.staff).get(_url(order.id))
    moved = _move(api, carrier, order.id, "in_transit")

    assert shipment.status_code == 200
    assert shipment.json()["completeness"]["complete"] is False
    assert moved.status_code == 422
    missing = {item["field"] for item in moved.json()["details"]["missing"]}
    assert {"shipper.name", "consignee.name", "cargo_lines", "taking_over.date", "vehicle_plate"} <= missing
    assert api(carrier.staff).get(f"/api/v1/orders/{order.id}").json()["status"] == "confirmed"


def test_only_a_freight_order_takes_a_shipment(shipper, carrier):
    with tenant_scope(shipper.org.id, user_id=shipper.staff.id), pytest.raises(ValidationFailed) as refused:
        order_services.order_create(
            order_input=order_services.OrderInput(
                kind="self_purchase",
                client_organization_id=shipper.org.id,
                supplier_organization_id=carrier.org.id,
                currency="EUR",
                items=[order_services.ItemInput(name="Parcel", quantity=1, unit_price=Decimal("10"))],
                shipment={"consignee": CONSIGNEE},
            ),
            actor=Actor(user_id=shipper.staff.id),
        )

    assert refused.value.details == {"shipment": ["Not a freight order."]}
    with system_scope(reason="test: nothing written", audit=False):
        assert not Order.objects.filter(client_organization=shipper.org).exists()


def test_the_migration_gives_a_shipment_to_every_freight_order_made_before_shipments(shipper, carrier):
    kept, lost = _plain_freight_order(shipper, carrier), _plain_freight_order(shipper, carrier)
    migration = importlib.import_module("apps.orders.migrations.0009_every_freight_order_has_a_shipment")
    with system_scope(reason="test: an order from before shipments", audit=False):
        Shipment.objects.filter(order=lost).delete()
        kept_id = Shipment.objects.get(order=kept).id

        with connection.schema_editor(atomic=False) as editor:
            migration.give_every_freight_order_a_shipment(django_apps, editor)

        made = Shipment.objects.get(order=lost)
        assert (made.client_organization_id, made.supplier_organization_id) == (shipper.org.id, carrier.org.id)
        assert Shipment.objects.get(order=kept).id == kept_id  # an order's shipment is never replaced
