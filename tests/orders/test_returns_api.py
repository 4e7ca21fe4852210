"""Returns through the API: requested with items and photos for delivered orders only,
approved or rejected, received back and refunded; illegal moves; who may see them."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.orders.models import OrderReturn, ReturnPhoto
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.orders.conftest import ADDRESS, pdf_file, png_bytes

pytestmark = pytest.mark.django_db


def delivered_order(api, forwarder, tracking="RET-1") -> dict:
    """A self purchase received, shipped and delivered: the customer's, returnable."""
    customer = api(forwarder["customer"], forwarder["org"])
    order = customer.post(
        "/api/v1/orders/self-purchase",
        {
            "tracking_number": tracking,
            "declared_value": "50.00",
            "currency": "EUR",
            "invoice": pdf_file(),
            "shipping_address": json.dumps(ADDRESS),
        },
        format="multipart",
    ).json()
    manager = api(forwarder["manager"], forwarder["org"])
    manager.post(
        f"/api/v1/warehouses/{forwarder['warehouse'].id}/receive",
        {"tracking_number": tracking, "weight_g": 500, "dimensions_cm": {"length": 10, "width": 10, "height": 10}},
        format="json",
    )
    for status in ("in_transit", "delivered"):
        manager.post(f"/api/v1/orders/{order['id']}/status", {"status": status}, format="json")
    return customer.get(f"/api/v1/orders/{order['id']}").json()


def request_return(api, forwarder, order, *, photos=None, quantity=1, reason="Wrong size"):
    return api(forwarder["customer"], forwarder["org"]).post(
        "/api/v1/returns",
        {
            "order": order["id"],
            "reason": reason,
            "items": json.dumps([{"order_item": order["items"][0]["id"], "quantity": quantity}]),
            "photos": photos if photos is not None else [SimpleUploadedFile("box.png", png_bytes(), "image/png")],
        },
        format="multipart",
    )


def decide(api, forwarder, return_id, status, note="", user="admin"):
    return api(forwarder[user], forwarder["org"]).post(
        f"/api/v1/returns/{return_id}/status", {"status": status, "note": note}, format="json"
    )


def test_a_return_is_requested_approved_received_and_refunded_with_an_event_each(api, forwarder):
    order = delivered_order(api, forwarder)
    assert order["status"] == "delivered"

    requested = request_return(api, forwarder, order)
    return_id = requested.json()["id"]
    moves = [decide(api, forwarder, return_id, status) for status in ("approved", "received", "refunded")]

    assert requested.status_code == 201, requested.json()
    assert requested.json()["items"] == [{"order_item": order["items"][0]["id"], "quantity": 1}]
    assert [p["content_type"] for p in requested.json()["photos"]] == ["image/png"]
    assert [(m.status_code, m.json()["status"]) for m in moves] == [
        (200, "approved"),
        (200, "received"),
        (200, "refunded"),
    ]
    with system_scope(reason="test", audit=False):
        kinds = list(
            OutboxEvent.objects.filter(aggregate_id=return_id)
            .order_by("created_at")
            .values_list("event_type", flat=True)
        )
    assert kinds == ["return.requested", "return.approved", "return.received", "return.refunded"]


def test_a_return_is_rejected_only_with_a_reason(api, forwarder):
    return_id = request_return(api, forwarder, delivered_order(api, forwarder)).json()["id"]

    without = decide(api, forwarder, return_id, "rejected")
    rejected = decide(api, forwarder, return_id, "rejected", note="Worn")

    assert without.status_code == 400
    assert (rejected.status_code, rejected.json()["rejection_reason"]) == (200, "Worn")


@pytest.mark.parametrize("path", [("refunded",), ("approved", "approved"), ("rejected", "received")])
def test_illegal_return_moves_are_invalid_state_transitions(api, forwarder, path):
    return_id = request_return(api, forwarder, delivered_order(api, forwarder)).json()["id"]
    *before, illegal = path
    for status in before:
        decide(api, forwarder, return_id, status, note="Because")

    response = decide(api, forwarder, return_id, illegal, note="Because")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_an_order_not_yet_delivered_cannot_be_returned(api, forwarder):
    order = (
        api(forwarder["customer"], forwarder["org"])
        .post(
            "/api/v1/orders/assisted-purchase",
            {"product_url": "https://ebay.de/itm/1", "quantity": 1, "shipping_address": ADDRESS},
            format="json",
        )
        .json()["order"]
    )

    response = request_return(api, forwarder, order)

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_the_customer_cannot_approve_their_own_return(api, forwarder):
    return_id = request_return(api, forwarder, delivered_order(api, forwarder)).json()["id"]

    response = decide(api, forwarder, return_id, "approved", user="customer")

    assert response.status_code == 403


@pytest.mark.parametrize(
    "photos",
    [
        [SimpleUploadedFile("box.png", b"<html>no</html>", "image/png")],
        [SimpleUploadedFile("box.pdf", b"", "application/pdf")],
        [pdf_file("scan.pdf")],  # a PDF is not a photo
    ],
)
def test_a_bad_photo_refuses_the_return_and_nothing_is_stored(api, forwarder, photos):
    order = delivered_order(api, forwarder)

    response = request_return(api, forwarder, order, photos=photos)

    assert response.status_code == 400
    with system_scope(reason="test", audit=False):
        assert not OrderReturn.objects.exists() and not ReturnPhoto.objects.exists()


@pytest.mark.parametrize("items", ["not json", "[]", '[{"order_item": 1}]', '{"a": 1}'])
def test_bad_items_are_refused(api, forwarder, items):
    order = delivered_order(api, forwarder)

    response = api(forwarder["customer"], forwarder["org"]).post(
        "/api/v1/returns", {"order": order["id"], "reason": "x", "items": items}, format="multipart"
    )

    assert response.status_code == 400
    assert "items" in response.json()["details"]


def test_more_than_was_ordered_cannot_come_back(api, forwarder):
    order = delivered_order(api, forwarder)
    request_return(api, forwarder, order)

    response = request_return(api, forwarder, order)

    assert response.status_code == 400


def test_returns_are_hidden_from_other_tenants_and_other_customers(api, forwarder):
    return_id = request_return(api, forwarder, delivered_order(api, forwarder)).json()["id"]
    outsider_org = OrganizationFactory()
    outsider = api(member(outsider_org, Role.ORG_ADMIN), outsider_org)
    other_customer = api(member(forwarder["org"], Role.CUSTOMER), forwarder["org"])

    assert outsider.get(f"/api/v1/returns/{return_id}").status_code == 404
    assert outsider.get("/api/v1/returns").json()["meta"]["total"] == 0
    assert (
        outsider.post(f"/api/v1/returns/{return_id}/status", {"status": "approved"}, format="json").status_code == 404
    )
    assert other_customer.get(f"/api/v1/returns/{return_id}").status_code == 404
    assert other_customer.get("/api/v1/returns").json()["meta"]["total"] == 0


def test_the_return_list_runs_the_same_number_of_queries_for_1_or_4_returns(api, forwarder, django_assert_num_queries):
    request_return(api, forwarder, delivered_order(api, forwarder))
    client = api(forwarder["admin"], forwarder["org"])
    client.get("/api/v1/returns")
    # savepoint, user scope, user+memberships, tenant scope, page (shorter than `limit`: no
    # count), items, photos, release, restore
    with django_assert_num_queries(9):
        assert client.get("/api/v1/returns").json()["meta"]["total"] == 1
    for index in range(3):
        request_return(api, forwarder, delivered_order(api, forwarder, tracking=f"RET-{index + 2}"))
    with django_assert_num_queries(9):
        assert client.get("/api/v1/returns").json()["meta"]["total"] == 4
