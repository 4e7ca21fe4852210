"""Threads through the API: opening one about an order (once, from either side), the list with
unread counts in one query, read receipts, and what a third organization cannot do."""

from __future__ import annotations

import uuid

import pytest

from apps.chat.models import Thread
from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from tests.chat.factories import order_between, order_thread, send
from tests.factories import FeatureFactory

pytestmark = pytest.mark.django_db


def test_either_party_opens_the_one_thread_about_an_order(api, shipper, carrier, order):
    opened = api(shipper.user).post(
        "/api/v1/chat/threads", {"subject_type": "order", "subject_id": str(order.id)}, format="json"
    )
    again = api(carrier.user).post(
        "/api/v1/chat/threads", {"subject_type": "order", "subject_id": str(order.id)}, format="json"
    )

    assert opened.status_code == 201, opened.json()
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == opened.json()["id"]
    body = opened.json()
    assert body["subject_type"] == "order" and body["subject_id"] == str(order.id)
    assert body["title"] == f"Order {order.number}"
    assert {party["name"] for party in body["parties"]} == {"Baltic Shippers", "Volga Carriers"}
    assert {p["user_id"] for p in again.json()["participants"]} == {str(shipper.user.id), str(carrier.user.id)}


def test_an_outsider_cannot_open_a_thread_about_someone_elses_order(api, outsider, order):
    response = api(outsider.user).post(
        "/api/v1/chat/threads", {"subject_type": "order", "subject_id": str(order.id)}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
    with system_scope(reason="test: count threads"):
        assert Thread.objects.count() == 0


def test_a_third_organization_cannot_see_read_or_post_in_a_thread(api, outsider, thread, shipper):
    message = send(shipper, thread, "Pickup at 10:00")
    client = api(outsider.user)
    thread_url = f"/api/v1/chat/threads/{thread.id}"

    assert client.get("/api/v1/chat/threads").json()["data"] == []
    responses = [
        client.get(thread_url),
        client.get(f"{thread_url}/messages"),
        client.post(f"{thread_url}/messages", {"text": "hi"}, format="json"),
        client.post(f"{thread_url}/read", {}, format="json"),
        client.put(f"/api/v1/chat/messages/{message.id}", {"text": "x"}, format="json"),
        client.delete(f"/api/v1/chat/messages/{message.id}"),
        client.post(f"/api/v1/chat/messages/{message.id}/report", {"reason": "spam"}, format="json"),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    # The same answer as for a thread that does not exist: nothing tells it is there.
    missing = client.get(f"/api/v1/chat/threads/{uuid.uuid4()}")
    assert responses[0].json()["message"] == missing.json()["message"]


def test_sending_stores_publishes_and_moves_the_senders_read_marker(api, shipper, carrier, thread):
    response = api(carrier.user).post(
        f"/api/v1/chat/threads/{thread.id}/messages", {"text": "  Truck arrives at 9  "}, format="json"
    )

    assert response.status_code == 201, response.json()
    message = response.json()
    assert message["text"] == "Truck arrives at 9"
    assert message["seq"] == 1 and message["state"] == "active" and message["notice"] == ""
    assert message["sender"]["organization_id"] == str(carrier.org.id)
    with system_scope(reason="test: read the outbox"):
        event = OutboxEvent.objects.get(event_type="chat.message_sent")
    assert event.payload["message_id"] == message["id"]
    assert event.payload["recipient_organization_id"] == str(shipper.org.id)
    mine = api(carrier.user).get(f"/api/v1/chat/threads/{thread.id}").json()
    theirs = api(shipper.user).get(f"/api/v1/chat/threads/{thread.id}").json()
    assert mine["unread_count"] == 0
    assert theirs["unread_count"] == 1


def test_the_list_shows_each_threads_unread_count_for_the_caller(api, shipper, carrier, thread):
    other = order_thread(shipper, carrier)
    for text in ("one", "two", "three"):
        send(carrier, thread, text)
    send(carrier, other, "elsewhere")
    client = api(shipper.user)
    first = client.get(f"/api/v1/chat/threads/{thread.id}/messages").json()["data"][-1]
    client.post(f"/api/v1/chat/threads/{thread.id}/read", {"message_id": first["id"]}, format="json")

    listed = {row["id"]: row for row in client.get("/api/v1/chat/threads").json()["data"]}

    assert listed[str(thread.id)]["unread_count"] == 2
    assert listed[str(thread.id)]["last_read_seq"] == 1
    assert listed[str(other.id)]["unread_count"] == 1
    # The most recently active first.
    assert list(listed) == [str(other.id), str(thread.id)]


def test_the_thread_list_runs_the_same_queries_for_one_thread_or_many(
    api, shipper, carrier, django_assert_max_num_queries, django_assert_num_queries
):
    client = api(shipper.user)
    send(carrier, order_thread(shipper, carrier), "first")
    client.get("/api/v1/chat/threads")  # warm: the caller's session and features cached
    with django_assert_max_num_queries(50) as one:
        assert len(client.get("/api/v1/chat/threads").json()["data"]) == 1
    for _ in range(6):
        send(carrier, order_thread(shipper, carrier), "more")

    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get("/api/v1/chat/threads").json()["data"]) == 7


def test_read_receipts_never_move_back(api, shipper, carrier, thread):
    first, second = send(carrier, thread, "a"), send(carrier, thread, "b")
    client = api(shipper.user)

    client.post(f"/api/v1/chat/threads/{thread.id}/read", {"message_id": str(second.id)}, format="json")
    response = client.post(f"/api/v1/chat/threads/{thread.id}/read", {"message_id": str(first.id)}, format="json")

    receipts = {p["user_id"]: p for p in response.json()["participants"]}
    assert receipts[str(shipper.user.id)]["last_read_seq"] == 2
    with system_scope(reason="test: read the outbox"):
        assert OutboxEvent.objects.filter(event_type="chat.message_read").count() == 1


def test_a_customer_sees_only_threads_about_their_own_orders(api, shipper, carrier, customer):
    theirs = order_thread(shipper, carrier, order=order_between(shipper, carrier, customer=customer))
    not_theirs = order_thread(shipper, carrier)
    client = api(customer)

    listed = [row["id"] for row in client.get("/api/v1/chat/threads").json()["data"]]

    assert listed == [str(theirs.id)]
    assert client.get(f"/api/v1/chat/threads/{not_theirs.id}").status_code == 404
    assert (
        client.post(f"/api/v1/chat/threads/{theirs.id}/messages", {"text": "Where is it?"}, format="json").status_code
        == 201
    )


def test_a_direct_thread_needs_organizations_that_have_traded(api, shipper, carrier, order, outsider):
    client = api(shipper.user)

    with_partner = client.post(
        "/api/v1/chat/threads", {"subject_type": "direct", "counterparty_id": str(carrier.org.id)}, format="json"
    )
    from_partner = api(carrier.user).post(
        "/api/v1/chat/threads", {"subject_type": "direct", "counterparty_id": str(shipper.org.id)}, format="json"
    )
    with_stranger = client.post(
        "/api/v1/chat/threads", {"subject_type": "direct", "counterparty_id": str(outsider.org.id)}, format="json"
    )

    assert with_partner.status_code == 201, with_partner.json()
    assert from_partner.status_code == 200 and from_partner.json()["id"] == with_partner.json()["id"]
    assert with_stranger.status_code == 404


def test_a_kind_no_context_serves_yet_is_refused_clearly(api, shipper):
    response = api(shipper.user).post(
        "/api/v1/chat/threads", {"subject_type": "service_order", "subject_id": str(uuid.uuid4())}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["details"] == {"subject_type": ["service_order"]}


def test_chat_switched_off_answers_feature_disabled(api, shipper, thread):
    FeatureFactory(organization=shipper.org, name="chat", is_enabled=False)

    response = api(shipper.user).get("/api/v1/chat/threads")

    assert response.status_code == 403
    assert response.json()["error_code"] == "FEATURE_DISABLED"


def test_a_socket_may_listen_to_a_thread_only_by_its_canonical_id_and_with_chat_on(shipper, outsider, thread):
    from apps.chat.selectors import thread_may_listen
    from apps.core.context import tenant_scope
    from apps.tenancy.services import feature_cache_forget

    def may_listen(side, resource_id):
        with tenant_scope(side.org.id, user_id=side.user.id):
            return thread_may_listen(side.org.id, resource_id)

    assert may_listen(shipper, str(thread.id)) is True
    assert may_listen(shipper, str(thread.id).upper()) is False
    assert may_listen(outsider, str(thread.id)) is False
    FeatureFactory(organization=shipper.org, name="chat", is_enabled=False)
    feature_cache_forget(organization_id=shipper.org.id)  # a factory row skips the service that forgets
    assert may_listen(shipper, str(thread.id)) is False


def test_a_colleague_is_added_to_the_thread_and_a_stranger_is_not(api, shipper, carrier, outsider, thread):
    from apps.tenancy.roles import Role
    from tests.factories import member

    colleague, warehouse_hand = member(shipper.org, Role.SHIPPER), member(shipper.org, Role.WAREHOUSE_STAFF)
    client = api(shipper.user)
    url = f"/api/v1/chat/threads/{thread.id}/participants"

    added = client.post(url, {"user_id": str(colleague.id)}, format="json")
    refused = [
        client.post(url, {"user_id": str(user_id)}, format="json").status_code
        # another organization's user, a colleague whose role has no chat, and nobody
        for user_id in (carrier.user.id, warehouse_hand.id, uuid.uuid4())
    ]

    assert added.status_code == 200, added.json()
    participant = next(p for p in added.json()["participants"] if p["user_id"] == str(colleague.id))
    assert participant["organization_id"] == str(shipper.org.id)
    assert refused == [404, 404, 404]
    assert api(outsider.user).post(url, {"user_id": str(outsider.user.id)}, format="json").status_code == 404
