"""A person's preferences through the API: every type with its defaults, channels and digests
changed per type, quiet hours set and turned off; security types keep in-app and e-mail, digests
only for noisy types, and a refused request changes nothing (all or nothing)."""

from __future__ import annotations

import pytest

from apps.core.context import user_scope
from apps.notifications.catalogue import listed_types
from apps.notifications.models import NotificationPreference, NotificationSettings
from tests.factories import UserFactory
from tests.notifications.factories import stored

pytestmark = pytest.mark.django_db

PREFERENCES = "/api/v1/notifications/preferences"


def by_type(response) -> dict[str, dict]:
    assert response.status_code == 200, response.json()
    return {entry["type"]: entry for entry in response.json()["types"]}


def saved_preferences(user) -> dict[str, NotificationPreference]:
    with user_scope(user.id):
        return {row.type: row for row in NotificationPreference.objects.filter(user_id=user.id)}


def test_every_type_is_listed_with_its_defaults_and_no_quiet_hours(api):
    response = api(UserFactory()).get(PREFERENCES)

    types = by_type(response)
    assert list(types) == [kind.key for kind in listed_types()]
    assert "security.phone_verification" not in types
    assert response.json()["quiet_hours"] is None
    order = types["order.status_changed"]
    assert (order["in_app"], order["email"], order["push"], order["sms"]) == (True, True, True, False)
    assert order["digest"] == "immediate" and order["digestible"] is True and order["mandatory"] is False
    alert = types["tracking.alert"]
    assert alert["sms"] is True  # urgent: SMS on by default
    sign_in = types["security.sign_in"]
    assert sign_in["mandatory"] is True and sign_in["digestible"] is False


def test_changing_some_types_keeps_the_others_at_their_defaults(api):
    person = UserFactory()
    client = api(person)

    response = client.put(
        PREFERENCES,
        {
            "types": [
                {"type": "order.status_changed", "email": False, "digest": "daily"},
                {"type": "tracking.alert", "sms": False, "push": False},
            ]
        },
        format="json",
    )

    types = by_type(response)
    order, alert = types["order.status_changed"], types["tracking.alert"]
    assert (order["in_app"], order["email"], order["push"], order["digest"]) == (True, False, True, "daily")
    assert (alert["in_app"], alert["email"], alert["sms"], alert["push"]) == (True, True, False, False)
    assert types["payment.escrow_funded"]["email"] is True
    assert by_type(client.get(PREFERENCES)) == types
    saved = saved_preferences(person)
    assert set(saved) == {"order.status_changed", "tracking.alert"}
    assert saved["order.status_changed"].digest == "daily"


def test_a_second_change_to_a_type_keeps_what_the_first_set(api):
    client = api(UserFactory())
    client.put(PREFERENCES, {"types": [{"type": "rfq.created", "email": False}]}, format="json")

    response = client.put(PREFERENCES, {"types": [{"type": "rfq.created", "digest": "hourly"}]}, format="json")

    rfq = by_type(response)["rfq.created"]
    assert (rfq["email"], rfq["digest"]) == (False, "hourly")


def test_quiet_hours_are_set_across_midnight_and_turned_off_with_null(api):
    person = UserFactory()
    client = api(person)

    set_response = client.put(PREFERENCES, {"quiet_hours": {"start": "22:00", "end": "07:30"}}, format="json")

    assert set_response.status_code == 200, set_response.json()
    assert set_response.json()["quiet_hours"] == {"start": "22:00", "end": "07:30"}
    kept = stored(NotificationSettings, user_id=person.id)
    assert (kept.quiet_start.isoformat(), kept.quiet_end.isoformat()) == ("22:00:00", "07:30:00")
    # A request about types only leaves quiet hours alone.
    unchanged = client.put(PREFERENCES, {"types": [{"type": "rfq.created", "push": False}]}, format="json")
    assert unchanged.json()["quiet_hours"] == {"start": "22:00", "end": "07:30"}

    off = client.put(PREFERENCES, {"quiet_hours": None}, format="json")

    assert off.status_code == 200, off.json()
    assert off.json()["quiet_hours"] is None
    assert stored(NotificationSettings, user_id=person.id).quiet_start is None


def test_quiet_hours_that_start_when_they_end_are_refused(api):
    person = UserFactory()

    response = api(person).put(PREFERENCES, {"quiet_hours": {"start": "08:00", "end": "08:00"}}, format="json")

    assert response.status_code == 400
    assert "quiet_hours" in response.json()["details"]
    assert api(person).get(PREFERENCES).json()["quiet_hours"] is None


@pytest.mark.parametrize("channel", ["email", "in_app"])
def test_a_security_type_cannot_lose_in_app_or_email_and_the_rest_of_the_request_is_not_saved(api, channel):
    person = UserFactory()
    client = api(person)

    response = client.put(
        PREFERENCES,
        {
            "types": [
                {"type": "order.status_changed", "email": False},
                {"type": "security.password_changed", channel: False},
            ],
            "quiet_hours": {"start": "23:00", "end": "06:00"},
        },
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert "types[1]" in body["details"]
    assert saved_preferences(person) == {}
    after = client.get(PREFERENCES)
    assert by_type(after)["order.status_changed"]["email"] is True
    assert by_type(after)["security.password_changed"][channel] is True
    assert after.json()["quiet_hours"] is None


def test_a_security_type_may_turn_push_off_and_sms_on(api):
    response = api(UserFactory()).put(
        PREFERENCES, {"types": [{"type": "security.sign_in", "push": False, "sms": True}]}, format="json"
    )

    sign_in = by_type(response)["security.sign_in"]
    assert (sign_in["in_app"], sign_in["email"], sign_in["push"], sign_in["sms"]) == (True, True, False, True)


def test_a_digest_for_a_type_told_as_it_happens_is_refused(api):
    person = UserFactory()

    response = api(person).put(
        PREFERENCES, {"types": [{"type": "payment.escrow_funded", "digest": "daily"}]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert saved_preferences(person) == {}


@pytest.mark.parametrize("type_key", ["no.such.type", "security.phone_verification"])
def test_an_unknown_or_unlisted_type_is_refused(api, type_key):
    person = UserFactory()

    response = api(person).put(PREFERENCES, {"types": [{"type": type_key, "email": False}]}, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"].startswith("VALIDATION_")
    assert saved_preferences(person) == {}


def test_the_same_type_twice_in_one_request_is_refused(api):
    person = UserFactory()

    response = api(person).put(
        PREFERENCES,
        {"types": [{"type": "rfq.created", "email": False}, {"type": "rfq.created", "email": True}]},
        format="json",
    )

    assert response.status_code == 400
    assert "types[1]" in response.json()["details"]
    assert saved_preferences(person) == {}


def test_one_persons_preferences_are_not_anothers(api):
    first, second = UserFactory(), UserFactory()
    api(first).put(PREFERENCES, {"types": [{"type": "rfq.created", "email": False}]}, format="json")

    response = api(second).get(PREFERENCES)

    assert by_type(response)["rfq.created"]["email"] is True
    assert saved_preferences(second) == {}


@pytest.mark.parametrize("start", ["22:00+03:00", "22:00:00Z", "25:00", "ten"])
def test_quiet_hours_are_local_times_without_an_offset(api, start):
    person = UserFactory()

    response = api(person).put(PREFERENCES, {"quiet_hours": {"start": start, "end": "07:00"}}, format="json")

    assert response.status_code == 400
    assert "quiet_hours" in response.json()["details"]
    assert api(person).get(PREFERENCES).json()["quiet_hours"] is None
