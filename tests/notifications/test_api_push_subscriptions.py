"""Web-push subscriptions through the API, with subscriptions made by the push sandbox as a
browser's PushManager would: kept once per endpoint, listed, forgotten, only the caller's; http
endpoints only where allowed; and the VAPID public key browsers subscribe with."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.context import user_scope
from apps.notifications.models import PushSubscription
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/api/v1/notifications/push-subscriptions"


def browser_subscription(push_sandbox) -> dict:
    """What PushSubscription.toJSON() gives the page: endpoint and keys."""
    subscription = push_sandbox.subscribe(application_server_key=push_sandbox.vapid_public_key)
    return {"endpoint": subscription["endpoint"], "keys": subscription["keys"]}


def kept_subscriptions(user) -> list[PushSubscription]:
    with user_scope(user.id):
        return list(PushSubscription.objects.filter(user_id=user.id))


def test_a_browsers_subscription_is_kept_once_per_endpoint(api, notification_sandboxes):
    person = UserFactory()
    client = api(person)
    subscription = browser_subscription(notification_sandboxes.push)

    created = client.post(SUBSCRIPTIONS, subscription, format="json", HTTP_USER_AGENT="Firefox/140")
    again = client.post(SUBSCRIPTIONS, subscription, format="json", HTTP_USER_AGENT="Firefox/141")

    assert created.status_code == 201, created.json()
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == created.json()["id"]
    assert created.json()["endpoint"] == subscription["endpoint"]
    [kept] = kept_subscriptions(person)
    assert (kept.p256dh, kept.auth) == (subscription["keys"]["p256dh"], subscription["keys"]["auth"])
    assert kept.user_agent == "Firefox/141"


def test_the_same_endpoint_again_takes_the_new_keys(api, notification_sandboxes):
    person = UserFactory()
    client = api(person)
    subscription = browser_subscription(notification_sandboxes.push)
    client.post(SUBSCRIPTIONS, subscription, format="json")
    renewed = {**subscription, "keys": browser_subscription(notification_sandboxes.push)["keys"]}

    response = client.post(SUBSCRIPTIONS, renewed, format="json")

    assert response.status_code == 200, response.json()
    [kept] = kept_subscriptions(person)
    assert kept.p256dh == renewed["keys"]["p256dh"]


def test_an_http_endpoint_is_refused_unless_http_endpoints_are_allowed(api, notification_sandboxes, settings):
    settings.WEB_PUSH = notification_sandboxes.push.web_push_settings(ALLOW_HTTP_ENDPOINTS=False)
    person = UserFactory()
    subscription = browser_subscription(notification_sandboxes.push)
    assert subscription["endpoint"].startswith("http://")

    response = api(person).post(SUBSCRIPTIONS, subscription, format="json")

    assert response.status_code == 400
    assert "endpoint" in response.json()["details"]
    assert kept_subscriptions(person) == []


@pytest.mark.parametrize(
    "endpoint",
    ["ftp://push.example.com/x", "https://user:secret@push.example.com/x", "not a url", "javascript:alert(1)"],
)
def test_an_endpoint_that_is_not_a_push_services_https_url_is_refused(api, notification_sandboxes, endpoint):
    person = UserFactory()
    keys = browser_subscription(notification_sandboxes.push)["keys"]

    response = api(person).post(SUBSCRIPTIONS, {"endpoint": endpoint, "keys": keys}, format="json")

    assert response.status_code == 400
    assert kept_subscriptions(person) == []


def test_the_list_shows_only_the_callers_subscriptions_in_a_fixed_number_of_queries(
    api, notification_sandboxes, django_assert_num_queries
):
    person, other = UserFactory(), UserFactory()
    client = api(person)
    mine = client.post(SUBSCRIPTIONS, browser_subscription(notification_sandboxes.push), format="json").json()
    api(other).post(SUBSCRIPTIONS, browser_subscription(notification_sandboxes.push), format="json")
    client.get(SUBSCRIPTIONS)  # warm: the caller's session is cached
    with CaptureQueriesContext(connection) as one:
        listed = client.get(SUBSCRIPTIONS).json()
    one_count = len(one.captured_queries)
    for _ in range(4):
        client.post(SUBSCRIPTIONS, browser_subscription(notification_sandboxes.push), format="json")

    with django_assert_num_queries(one_count):
        assert len(client.get(SUBSCRIPTIONS).json()["data"]) == 5

    assert [row["id"] for row in listed["data"]] == [mine["id"]]
    assert listed["meta"]["total"] == 1


def test_a_subscription_is_forgotten_and_another_persons_is_not_found(api, notification_sandboxes):
    person, other = UserFactory(), UserFactory()
    mine = api(person).post(SUBSCRIPTIONS, browser_subscription(notification_sandboxes.push), format="json").json()
    theirs = api(other).post(SUBSCRIPTIONS, browser_subscription(notification_sandboxes.push), format="json").json()

    intruding = api(person).delete(f"{SUBSCRIPTIONS}/{theirs['id']}")
    deleted = api(person).delete(f"{SUBSCRIPTIONS}/{mine['id']}")
    again = api(person).delete(f"{SUBSCRIPTIONS}/{mine['id']}")

    assert intruding.status_code == 404 and intruding.json()["error_code"] == "NOT_FOUND"
    assert deleted.status_code == 204
    assert again.status_code == 404
    assert kept_subscriptions(person) == []
    assert [str(row.id) for row in kept_subscriptions(other)] == [theirs["id"]]


def test_the_key_is_the_configured_vapid_public_key(api, notification_sandboxes):
    response = api(UserFactory()).get(f"{SUBSCRIPTIONS}/key")

    assert response.status_code == 200, response.json()
    assert response.json() == {"vapid_public_key": notification_sandboxes.push.vapid_public_key}


def test_without_vapid_keys_the_key_is_a_503_not_a_server_error(api, settings):
    settings.WEB_PUSH = {**settings.WEB_PUSH, "VAPID_PRIVATE_KEY": "", "VAPID_PUBLIC_KEY": ""}

    response = api(UserFactory()).get(f"{SUBSCRIPTIONS}/key")

    assert response.status_code == 503
    assert response.json()["error_code"] == "EXTERNAL_SERVICE_UNAVAILABLE"
