"""The planned route through the API: the carrier plans it (waypoints, windows, corridor), the
shipper reads it, the length and the promised time follow, bad input changes nothing."""

from __future__ import annotations

import pytest

from tests.tracking.read_support import relay

pytestmark = pytest.mark.django_db

PLAN = {
    "waypoints": [
        {"kind": "pickup", "latitude": "53.55", "longitude": "10.0", "city": "Hamburg", "country": "DE"},
        {"kind": "border_crossing", "latitude": "52.35", "longitude": "14.55", "name": "Frankfurt (Oder)"},
        {
            "kind": "delivery",
            "latitude": "52.23",
            "longitude": "21.01",
            "city": "Warsaw",
            "window_from": "2027-01-12T08:00:00Z",
            "window_until": "2027-01-12T16:00:00Z",
        },
    ],
    "corridor_width_m": 3000,
}


def _url(order_id) -> str:
    return f"/api/v1/tracking/orders/{order_id}/route/plan"


def test_the_carrier_plans_the_route_and_the_shipper_reads_it(api, shipper, carrier, confirmed):
    planned = api(carrier.staff).put(_url(confirmed.id), PLAN, format="json")
    read = api(shipper.staff).get(_url(confirmed.id))

    assert planned.status_code == 200, planned.json()
    assert read.json() == planned.json()
    body = read.json()
    assert [point["kind"] for point in body["waypoints"]] == ["pickup", "border_crossing", "delivery"]
    assert body["waypoints"][1]["name"] == "Frankfurt (Oder)"
    assert body["corridor_width_m"] == 3000
    assert 760_000 < body["route_length_m"] < 790_000  # Hamburg → Frankfurt (Oder) ≈ 330 km → Warsaw ≈ 440 km
    assert body["promised_at"] == "2027-01-12T16:00:00Z"


def test_the_planned_route_is_what_the_route_endpoint_draws(api, shipper, carrier, confirmed):
    api(carrier.staff).put(_url(confirmed.id), PLAN, format="json")

    route = api(shipper.staff).get(f"/api/v1/tracking/orders/{confirmed.id}/route").json()

    assert route["features"][0]["geometry"]["coordinates"] == [[10.0, 53.55], [14.55, 52.35], [21.01, 52.23]]


def test_the_shipper_cannot_plan_the_route(api, shipper, confirmed):
    response = api(shipper.staff).put(_url(confirmed.id), PLAN, format="json")

    assert response.status_code == 403


def test_the_shippers_admin_cannot_plan_the_carriers_route_either(api, shipper, confirmed):
    response = api(shipper.admin).put(_url(confirmed.id), PLAN, format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"waypoints": PLAN["waypoints"][:1]}, "waypoints"),
        ({"corridor_width_m": 10}, "corridor_width_m"),
        ({"waypoints": [{"kind": "pickup", "latitude": "95", "longitude": "10"}, PLAN["waypoints"][2]]}, "waypoints"),
        ({"waypoints": [{"kind": "pickup", "latitude": "53"}, PLAN["waypoints"][2]]}, "waypoints"),
        ({"waypoints": [{"kind": "teleport"}, PLAN["waypoints"][2]]}, "waypoints"),
        (
            {
                "waypoints": [
                    PLAN["waypoints"][0],
                    {"kind": "delivery", "window_from": "2027-01-12T16:00:00Z", "window_until": "2027-01-12T08:00:00Z"},
                ]
            },
            "waypoints",
        ),
    ],
)
def test_a_bad_plan_is_refused_and_nothing_changes(api, carrier, confirmed, change, field):
    before = api(carrier.staff).get(_url(confirmed.id)).json()

    response = api(carrier.staff).put(_url(confirmed.id), {**PLAN, **change}, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["details"]
    assert api(carrier.staff).get(_url(confirmed.id)).json() == before


def test_a_third_organization_gets_404(api, outsider, confirmed):
    assert api(outsider).get(_url(confirmed.id)).status_code == 404
    assert api(outsider).put(_url(confirmed.id), PLAN, format="json").status_code == 404


def test_an_ended_tracking_takes_no_new_plan(api, carrier, confirmed):
    cancelled = api(carrier.staff).post(f"/api/v1/orders/{confirmed.id}/cancel", {"reason": "No truck"}, format="json")
    assert cancelled.status_code == 200
    relay()

    response = api(carrier.staff).put(_url(confirmed.id), PLAN, format="json")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"
