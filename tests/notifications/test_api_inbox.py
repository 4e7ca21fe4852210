"""A person's in-app notifications through the API: the inbox (only theirs, newest first, with the
unread count and filters, in a fixed number of queries), one notification with its deliveries,
marking read (once), reading all, deleting (hidden, kept), and nothing of another person's."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.notifications.models import Notification
from tests.factories import OrganizationFactory, UserFactory, member
from tests.notifications.factories import delivery, inbox, notification, stored

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/notifications"


def detail_url(row) -> str:
    return f"{INBOX}/{row.id}"


def listed_ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["data"]]


def test_the_inbox_lists_only_the_callers_notifications_newest_first_with_the_unread_count(api):
    reader, other = UserFactory(), UserFactory()
    older, middle, newest = inbox(reader, 3)
    notification(other, title="Not yours")
    read_one = api(reader).put(f"{detail_url(middle)}/read")
    assert read_one.status_code == 200, read_one.json()

    response = api(reader).get(INBOX)

    assert listed_ids(response) == [str(newest.id), str(middle.id), str(older.id)]
    body = response.json()
    assert body["meta"]["unread_count"] == 2
    assert body["meta"]["total"] == 3
    first = body["data"][0]
    assert first["title"] == newest.title and first["type"] == "order.status_changed"
    assert first["is_read"] is False and first["read_at"] is None
    assert body["data"][1]["is_read"] is True and body["data"][1]["read_at"] is not None


def test_a_member_sees_the_same_inbox_whichever_organization_the_request_names(api):
    organization = OrganizationFactory()
    person = member(organization)
    [row] = inbox(person, 1)

    response = api(person, organization).get(INBOX)

    assert listed_ids(response) == [str(row.id)]


def test_the_unread_filter_gives_unread_or_read_ones(api):
    reader = UserFactory()
    first, second, third = inbox(reader, 3)
    client = api(reader)
    client.put(f"{detail_url(second)}/read")

    unread = client.get(INBOX, {"unread": "true"})
    read = client.get(INBOX, {"unread": "false"})

    assert listed_ids(unread) == [str(third.id), str(first.id)]
    assert listed_ids(read) == [str(second.id)]
    # The count is of every unread notification, whatever the filter.
    assert read.json()["meta"]["unread_count"] == 2


def test_the_type_filter_lists_one_type(api):
    reader = UserFactory()
    order_news = notification(reader, type_key="order.status_changed")
    notification(reader, type_key="payment.escrow_funded")

    response = api(reader).get(INBOX, {"type": "order.status_changed"})

    assert listed_ids(response) == [str(order_news.id)]


def test_an_unread_value_that_is_not_a_boolean_is_a_400_envelope(api):
    response = api(UserFactory()).get(INBOX, {"unread": "maybe"})

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_FIELD_INVALID"
    assert set(body) >= {"error_code", "message", "details", "timestamp", "request_id"}
    assert "unread" in body["details"]


def test_deleted_and_in_app_off_notifications_are_not_listed_nor_counted(api):
    reader = UserFactory()
    shown = notification(reader)
    notification(reader, in_app=False, title="Only e-mailed")
    gone = notification(reader)
    assert api(reader).delete(detail_url(gone)).status_code == 204

    response = api(reader).get(INBOX)

    assert listed_ids(response) == [str(shown.id)]
    assert response.json()["meta"]["unread_count"] == 1


def test_the_inbox_runs_the_same_queries_for_one_notification_or_a_full_page(api, django_assert_num_queries):
    reader = UserFactory()
    inbox(reader, 1)
    client = api(reader)
    client.get(INBOX)  # warm: the caller's session is cached
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(INBOX).json()["data"]) == 1
    one_count = len(one.captured_queries)
    inbox(reader, 24)

    with django_assert_num_queries(one_count):
        assert len(client.get(INBOX, {"limit": 25}).json()["data"]) == 25


def test_a_notification_shows_its_deliveries_with_their_attempts(api):
    reader = UserFactory()
    row = notification(reader)
    delivery(row, channel="email", provider_id="<m1@manifest.local>")
    delivery(row, channel="sms", status="queued")

    response = api(reader).get(detail_url(row))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == str(row.id) and body["title"] == row.title
    deliveries = {entry["channel"]: entry for entry in body["deliveries"]}
    assert set(deliveries) == {"email", "sms"}
    assert deliveries["email"]["status"] == "sent"
    assert [(a["number"], a["status"], a["provider_id"]) for a in deliveries["email"]["attempt_log"]] == [
        (1, "sent", "<m1@manifest.local>")
    ]
    assert deliveries["sms"]["status"] == "queued" and deliveries["sms"]["attempt_log"] == []


def test_marking_read_twice_keeps_the_first_read_time(api):
    reader = UserFactory()
    row = notification(reader)
    client = api(reader)

    first = client.put(f"{detail_url(row)}/read")
    second = client.put(f"{detail_url(row)}/read")

    assert first.status_code == 200 and second.status_code == 200
    assert first.json()["is_read"] is True
    assert second.json()["read_at"] == first.json()["read_at"]
    assert stored(Notification, id=row.id).read_at is not None


def test_read_all_marks_every_unread_one_and_says_how_many(api):
    reader, other = UserFactory(), UserFactory()
    first, *_ = inbox(reader, 3)
    others = notification(other)
    client = api(reader)
    client.put(f"{detail_url(first)}/read")

    response = client.put(f"{INBOX}/read-all")

    assert response.status_code == 200, response.json()
    assert response.json() == {"marked_read": 2, "unread_count": 0}
    assert client.get(INBOX).json()["meta"]["unread_count"] == 0
    assert stored(Notification, id=others.id).read_at is None


def test_a_deleted_notification_is_gone_from_the_api_but_kept_with_its_deletion_time(api):
    reader = UserFactory()
    row = notification(reader)
    client = api(reader)

    deleted = client.delete(detail_url(row))

    assert deleted.status_code == 204
    responses = [client.get(detail_url(row)), client.put(f"{detail_url(row)}/read"), client.delete(detail_url(row))]
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert stored(Notification, id=row.id).deleted_at is not None


def test_another_persons_notification_is_not_found_on_every_verb(api):
    owner, intruder = UserFactory(), UserFactory()
    theirs = notification(owner)
    client = api(intruder)

    responses = [
        client.get(detail_url(theirs)),
        client.put(f"{detail_url(theirs)}/read"),
        client.delete(detail_url(theirs)),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert {r.json()["error_code"] for r in responses} == {"NOT_FOUND"}
    # The same answer as for a notification that does not exist.
    missing = client.get(f"{INBOX}/{uuid.uuid4()}")
    assert responses[0].json()["message"] == missing.json()["message"]
    kept = stored(Notification, id=theirs.id)
    assert kept.read_at is None and kept.deleted_at is None
    assert client.put(f"{INBOX}/read-all").json()["marked_read"] == 0
    assert stored(Notification, id=theirs.id).read_at is None
