"""RFQs through the API: drafting, bad input, the lifecycle, filters and who sees what."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.marketplace.models import Rfq, RfqStatusChange
from tests.marketplace.conftest import offer_body, rfq_body
from tests.marketplace.factories import HAMBURG, WARSAW, RfqFactory

pytestmark = pytest.mark.django_db

PRAGUE = {"country": "CZ", "city": "Prague"}


def _rfq_count() -> int:
    with system_scope(reason="test: count", audit=False):
        return Rfq.objects.count()


def test_shipper_drafts_an_rfq_numbered_per_organization(api, shipper):
    client = api(shipper.staff)

    first = client.post("/api/v1/rfqs", rfq_body(), format="json")
    second = client.post("/api/v1/rfqs", rfq_body(title="Second"), format="json")

    assert first.status_code == 201, first.json()
    year = timezone.now().year
    assert first.json()["number"] == f"RFQ-{year}-000001"
    assert second.json()["number"] == f"RFQ-{year}-000002"
    body = first.json()
    assert body["status"] == "draft"
    assert body["organization"] == {"id": str(shipper.org.id), "name": "Baltic Shippers"}
    assert body["segments"][0]["sequence"] == 1
    assert body["segments"][0]["origin"]["city"] == "Hamburg"
    assert body["segments"][0]["pickup_date"] == "2027-01-11"


def test_creating_an_rfq_writes_its_history_and_rfq_created_in_one_transaction(api, shipper):
    response = api(shipper.staff).post("/api/v1/rfqs", rfq_body(), format="json")

    rfq_id = response.json()["id"]
    with tenant_scope(shipper.org.id):
        history = list(RfqStatusChange.objects.filter(rfq_id=rfq_id).values_list("from_status", "to_status"))
        event = OutboxEvent.objects.get(aggregate_id=rfq_id, event_type="rfq.created")
    assert history == [("", "draft")]
    assert event.payload["number"] == response.json()["number"]


def test_numbers_of_one_organization_do_not_move_another_organizations_counter(api, shipper, carrier):
    api(shipper.staff).post("/api/v1/rfqs", rfq_body(), format="json")
    api(shipper.staff).post("/api/v1/rfqs", rfq_body(), format="json")

    response = api(carrier.admin).post("/api/v1/rfqs", rfq_body(), format="json")

    assert response.json()["number"].endswith("-000001")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"weight_kg": "-5"}, "weight_kg"),
        ({"weight_kg": "0"}, "weight_kg"),
        ({"weight_kg": "50000000"}, "weight_kg"),
        ({"volume_cbm": "-1"}, "volume_cbm"),
        ({"temperature_min_c": "8", "temperature_max_c": "2"}, "temperature_min_c"),
        ({"currency": "EUX"}, "currency"),
        ({"currency": "DEM"}, "currency"),
        ({"deadline": "2020-01-01T00:00:00Z"}, "deadline"),
        ({"segments": []}, "segments"),
        ({"segments": [{"origin": {"country": "XX"}, "destination": WARSAW}]}, "segments"),
        (
            {
                "segments": [
                    {
                        "origin": HAMBURG,
                        "destination": WARSAW,
                        "pickup_date": "2027-02-02",
                        "delivery_date": "2027-02-01",
                    }
                ]
            },
            "segments",
        ),
        ({"segments": [{"origin": {"country": "DE", "latitude": 53.5}, "destination": WARSAW}]}, "segments"),
        ({"hazmat_class": "11"}, "hazmat_class"),
        ({"audience": "invited", "invited_organization_ids": []}, "invited_organization_ids"),
    ],
)
def test_bad_rfq_input_answers_400_naming_the_field_and_writes_nothing(api, shipper, overrides, field):
    before = _rfq_count()

    response = api(shipper.staff).post("/api/v1/rfqs", rfq_body(**overrides), format="json")

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["error_code"] in {"VALIDATION_FIELD_INVALID", "VALIDATION_FIELD_REQUIRED"}
    assert field in body["details"]
    assert _rfq_count() == before


def test_an_rfq_without_segments_names_segments(api, shipper):
    body = rfq_body()
    del body["segments"]

    response = api(shipper.staff).post("/api/v1/rfqs", body, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_REQUIRED"
    assert "segments" in response.json()["details"]


def test_a_carrier_role_cannot_draft_an_rfq(api, carrier):
    response = api(carrier.staff).post("/api/v1/rfqs", rfq_body(), format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_a_draft_is_seen_by_its_owner_only(api, shipper, carrier):
    rfq_id = api(shipper.staff).post("/api/v1/rfqs", rfq_body(), format="json").json()["id"]

    assert api(shipper.staff).get(f"/api/v1/rfqs/{rfq_id}").status_code == 200
    response = api(carrier.staff).get(f"/api/v1/rfqs/{rfq_id}")
    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
    assert api(carrier.staff).get("/api/v1/rfqs").json()["meta"]["total"] == 0


def test_publishing_opens_the_rfq_to_every_carrier(api, shipper, carrier):
    rfq_id = api(shipper.staff).post("/api/v1/rfqs", rfq_body(), format="json").json()["id"]

    response = api(shipper.staff).post(f"/api/v1/rfqs/{rfq_id}/publish")

    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert response.json()["published_at"] is not None
    seen = api(carrier.staff).get(f"/api/v1/rfqs/{rfq_id}")
    assert seen.status_code == 200
    assert seen.json()["live_offer_count"] is None  # a carrier never learns how many compete
    assert seen.json()["invited_organization_ids"] is None  # the owner's business (the schema says nullable)


def test_publishing_twice_is_an_invalid_transition(api, shipper, open_rfq):
    response = api(shipper.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/publish")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_a_carrier_cannot_publish_or_cancel_someone_elses_rfq(api, shipper, carrier):
    rfq_id = api(shipper.staff).post("/api/v1/rfqs", rfq_body(), format="json").json()["id"]

    publish = api(carrier.admin).post(f"/api/v1/rfqs/{rfq_id}/publish")
    cancel = api(carrier.admin).post(f"/api/v1/rfqs/{rfq_id}/cancel", {"reason": "x"}, format="json")

    assert publish.status_code == cancel.status_code == 404
    assert api(shipper.staff).get(f"/api/v1/rfqs/{rfq_id}").json()["status"] == "draft"


def test_an_invited_rfq_is_seen_by_the_invited_carrier_and_no_other(api, shipper, carrier, rival):
    body = rfq_body(audience="invited", invited_organization_ids=[str(carrier.org.id)])
    rfq_id = api(shipper.staff).post("/api/v1/rfqs", body, format="json").json()["id"]
    api(shipper.staff).post(f"/api/v1/rfqs/{rfq_id}/publish")

    assert api(carrier.staff).get(f"/api/v1/rfqs/{rfq_id}").status_code == 200
    assert api(rival.staff).get(f"/api/v1/rfqs/{rfq_id}").status_code == 404
    offer = api(rival.staff).post(f"/api/v1/rfqs/{rfq_id}/offers", offer_body(), format="json")
    assert offer.status_code == 404


def test_cancelling_rejects_the_live_offers_and_closes_the_rfq(api, shipper, carrier, open_rfq):
    offer_id = (
        api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json").json()["id"]
    )

    response = api(shipper.staff).post(
        f"/api/v1/rfqs/{open_rfq['id']}/cancel", {"reason": "Plans changed"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    offer = api(carrier.staff).get(f"/api/v1/offers/{offer_id}").json()
    assert offer["status"] == "rejected"
    assert offer["decision_note"] == "Plans changed"
    with tenant_scope(shipper.org.id):
        closed = OutboxEvent.objects.get(aggregate_id=open_rfq["id"], event_type="rfq.closed")
    assert closed.payload["status"] == "cancelled"


def test_cancelling_needs_a_reason(api, shipper, open_rfq):
    response = api(shipper.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/cancel", {"reason": ""}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["details"]


def test_acting_on_a_cancelled_rfq_is_rfq_already_closed(api, shipper, carrier, open_rfq):
    api(shipper.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/cancel", {"reason": "Off"}, format="json")

    again = api(shipper.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/cancel", {"reason": "Off"}, format="json")
    edit = api(shipper.staff).patch(f"/api/v1/rfqs/{open_rfq['id']}", {"description": "x"}, format="json")

    assert again.status_code == edit.status_code == 422
    assert again.json()["error_code"] == edit.json()["error_code"] == "RFQ_ALREADY_CLOSED"


def test_a_draft_can_be_edited_and_publishes_rfq_updated(api, shipper):
    rfq_id = api(shipper.staff).post("/api/v1/rfqs", rfq_body(), format="json").json()["id"]

    response = api(shipper.staff).patch(f"/api/v1/rfqs/{rfq_id}", {"weight_kg": "900"}, format="json")

    assert response.status_code == 200
    assert response.json()["weight_kg"] == "900.000"
    with tenant_scope(shipper.org.id):
        event = OutboxEvent.objects.get(aggregate_id=rfq_id, event_type="rfq.updated")
    assert event.payload["changed"] == ["weight_kg"]


def test_an_open_rfq_keeps_its_cargo_but_may_extend_its_deadline(api, shipper, open_rfq):
    client = api(shipper.staff)
    later = (timezone.now() + timedelta(days=10)).isoformat()

    cargo = client.patch(f"/api/v1/rfqs/{open_rfq['id']}", {"weight_kg": "900"}, format="json")
    deadline = client.patch(f"/api/v1/rfqs/{open_rfq['id']}", {"deadline": later}, format="json")

    assert cargo.status_code == 400
    assert "weight_kg" in cargo.json()["details"]
    assert deadline.status_code == 200
    assert deadline.json()["weight_kg"] == "1200.000"


def test_an_open_rfqs_deadline_cannot_be_brought_forward(api, shipper, open_rfq):
    sooner = (timezone.now() + timedelta(hours=1)).isoformat()

    response = api(shipper.staff).patch(f"/api/v1/rfqs/{open_rfq['id']}", {"deadline": sooner}, format="json")

    assert response.status_code == 400
    assert "deadline" in response.json()["details"]


def test_filters_narrow_the_list(api, shipper, carrier):
    client = api(shipper.staff)
    client.post("/api/v1/rfqs", rfq_body(title="Heavy to Warsaw", weight_kg="20000"), format="json")
    prague = [{"origin": HAMBURG, "destination": PRAGUE}]
    client.post(
        "/api/v1/rfqs", rfq_body(title="Light to Prague", segments=prague, service_type="road_ltl"), format="json"
    )

    def titles(query: str) -> set[str]:
        response = client.get(f"/api/v1/rfqs?{query}")
        assert response.status_code == 200, response.json()
        return {rfq["title"] for rfq in response.json()["data"]}

    assert titles("destination_country=cz") == {"Light to Prague"}
    assert titles("origin_country=DE") == {"Heavy to Warsaw", "Light to Prague"}
    assert titles("weight_min=10000") == {"Heavy to Warsaw"}
    assert titles("weight_max=5000") == {"Light to Prague"}
    assert titles("service_type=road_ltl") == {"Light to Prague"}
    assert titles("status=open") == set()
    assert titles("search=prague") == {"Light to Prague"}
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat().replace("+", "%2B")
    assert titles(f"deadline_after={tomorrow}") == {"Heavy to Warsaw", "Light to Prague"}
    assert titles(f"deadline_before={tomorrow}") == set()


def test_a_reversed_weight_range_filter_is_400(api, shipper):
    response = api(shipper.staff).get("/api/v1/rfqs?weight_min=100&weight_max=10")

    assert response.status_code == 400
    assert "weight_min" in response.json()["details"]


def test_the_rfq_list_runs_a_constant_number_of_queries(api, shipper, carrier, django_assert_num_queries):
    def rfqs(count):
        for _ in range(count):
            RfqFactory(organization=shipper.org)
            RfqFactory(organization=carrier.org)

    client = api(shipper.staff)
    rfqs(2)
    client.get("/api/v1/rfqs?limit=50")  # warm: the first request resolves and caches feature flags

    with django_assert_num_queries(7) as few:
        assert client.get("/api/v1/rfqs?limit=50").json()["meta"]["total"] == 4
    rfqs(10)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/rfqs?limit=50").json()["meta"]["total"] == 24


def test_drafting_with_an_idempotency_key_twice_makes_one_rfq_and_another_body_is_refused(api, shipper):
    client = api(shipper.staff)
    body = rfq_body()

    first = client.post("/api/v1/rfqs", body, format="json", HTTP_IDEMPOTENCY_KEY="rfq-1")
    replay = client.post("/api/v1/rfqs", body, format="json", HTTP_IDEMPOTENCY_KEY="rfq-1")
    reused = client.post("/api/v1/rfqs", rfq_body(title="Other"), format="json", HTTP_IDEMPOTENCY_KEY="rfq-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    assert reused.status_code == 422
    assert reused.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert _rfq_count() == 1
