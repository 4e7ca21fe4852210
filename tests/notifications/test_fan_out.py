"""From an outbox event to notifications: who is told, on which channels, when, and only once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.events import SignedIn
from apps.core.context import system_scope, tenant_scope, user_scope
from apps.core.services import outbox_publish
from apps.notifications import services
from apps.notifications.models import (
    Delivery,
    FannedOutEvent,
    NotificationPreference,
    NotificationSettings,
    NotificationTemplate,
)
from tests.notifications.support import deliveries_of, notifications_of, offer_submitted, relay

pytestmark = pytest.mark.django_db


def test_an_offer_is_told_to_the_rfq_owners_traders_not_to_the_carrier_or_the_warehouse(deal):
    row, written = relay(offer_submitted(deal), actor=deal["driver"])

    assert written == 2
    for person in (deal["admin"], deal["booker"]):
        [notification] = notifications_of(person)
        assert notification.type == "offer.received"
        assert notification.event_id == row.id
        assert notification.organization_id == deal["shipper"].id
        assert notification.title == "Offer on RFQ-2026-000042: 1850.00 EUR"
        assert (notification.subject_type, notification.in_app) == ("offer", True)
        assert set(deliveries_of(person)) == {"email"}  # no push subscription, no confirmed phone
        assert deliveries_of(person)["email"].address == person.email
    assert notifications_of(deal["clerk"]) == []
    assert notifications_of(deal["driver"]) == []


def test_the_same_event_relayed_again_tells_nobody_twice(deal):
    row, first = relay(offer_submitted(deal))

    with tenant_scope(deal["carrier"].id):
        second = services.event_fan_out(event=row)

    assert (first, second) == (2, 0)
    assert len(notifications_of(deal["admin"])) == 1
    with system_scope(reason="test"):
        assert Delivery.objects.filter(notification__event_id=row.id).count() == 2
        assert FannedOutEvent.objects.get(event_id=row.id).notifications == 2


def test_the_person_who_acted_is_not_told_of_their_own_action(deal):
    # The shipper's booker revises nothing here: the same event, said to be theirs.
    relay(offer_submitted(deal), actor=deal["booker"])

    assert notifications_of(deal["booker"]) == []
    assert len(notifications_of(deal["admin"])) == 1


def test_an_event_no_type_tells_writes_nothing(deal):
    event = offer_submitted(deal)
    with tenant_scope(event.organization_id):
        row = outbox_publish(event)
        row.event_type = "offer.viewed"  # no notification type maps it
        assert services.event_fan_out(event=row) == 0
        assert not FannedOutEvent.objects.filter(event_id=row.id).exists()


def test_email_switched_off_keeps_the_in_app_notification_only(deal):
    with user_scope(deal["booker"].id):
        NotificationPreference.objects.create(user=deal["booker"], type="offer.received", email=False)

    relay(offer_submitted(deal))

    assert len(notifications_of(deal["booker"])) == 1
    assert deliveries_of(deal["booker"]) == {}
    assert set(deliveries_of(deal["admin"])) == {"email"}


def test_in_app_switched_off_still_sends_the_email_without_listing_it(deal):
    with user_scope(deal["booker"].id):
        NotificationPreference.objects.create(user=deal["booker"], type="offer.received", in_app=False)

    relay(offer_submitted(deal))

    [notification] = notifications_of(deal["booker"])
    assert notification.in_app is False
    assert set(deliveries_of(deal["booker"])) == {"email"}


def test_every_channel_off_tells_nothing(deal):
    with user_scope(deal["booker"].id):
        NotificationPreference.objects.create(
            user=deal["booker"], type="offer.received", in_app=False, email=False, push=False, sms=False
        )

    relay(offer_submitted(deal))

    assert notifications_of(deal["booker"]) == []


def test_quiet_hours_hold_the_email_until_they_end_in_the_persons_time_zone(deal):
    booker = deal["booker"]
    booker.timezone = "Europe/Berlin"
    booker.save(update_fields=["timezone"])
    berlin = dt.timezone(dt.timedelta(hours=1))  # December: CET
    now_local = timezone.now().astimezone(berlin)
    # Quiet from an hour ago to two hours from now, so the relay falls inside them.
    start = (now_local - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now_local + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
    with user_scope(booker.id):
        NotificationSettings.objects.create(user=booker, quiet_start=start, quiet_end=end)

    relay(offer_submitted(deal))

    email = deliveries_of(booker)["email"]
    held_until = email.due_at.astimezone(berlin)
    assert held_until.time().replace(second=0, microsecond=0) == end
    assert email.due_at > timezone.now() + dt.timedelta(hours=1)
    assert len(notifications_of(booker)) == 1  # in-app at once, silently
    assert deliveries_of(deal["admin"])["email"].due_at <= timezone.now()  # the admin has no quiet hours


def test_an_hourly_digest_waits_for_the_next_hour_and_never_interrupts(deal):
    with user_scope(deal["booker"].id):
        NotificationPreference.objects.create(
            user=deal["booker"], type="offer.received", push=True, sms=True, digest="hourly"
        )

    relay(offer_submitted(deal))

    deliveries = deliveries_of(deal["booker"])
    assert set(deliveries) == {"email"}
    email = deliveries["email"]
    assert email.digest == "hourly"
    assert (email.due_at.minute, email.due_at.second) == (0, 0)
    assert timezone.now() < email.due_at <= timezone.now() + dt.timedelta(hours=1)


def test_a_security_event_reaches_the_person_whatever_they_chose(deal):
    person = deal["booker"]
    with user_scope(person.id):
        # Not possible through the API (refused there); written here to prove the fan-out ignores it.
        NotificationPreference.objects.create(user=person, type="security.sign_in", in_app=False, email=False)
        NotificationSettings.objects.create(user=person, quiet_start=dt.time(0, 0), quiet_end=dt.time(23, 59))

    event = SignedIn(
        organization_id=None,
        user_id=person.id,
        ip_address="203.0.113.7",
        user_agent="Firefox",
        method="password",
        new_device=True,
    )
    with system_scope(reason="test: the platform's own event"):
        row = outbox_publish(event)
        services.event_fan_out(event=row)

    [notification] = notifications_of(person)
    assert notification.type == "security.sign_in"
    assert "203.0.113.7" in notification.body
    assert deliveries_of(person)["email"].due_at <= timezone.now()  # no quiet hours for security


def test_a_sign_in_from_a_known_browser_tells_nothing(deal):
    event = SignedIn(
        organization_id=None,
        user_id=deal["booker"].id,
        ip_address="203.0.113.7",
        user_agent="Firefox",
        method="password",
        new_device=False,
    )
    with system_scope(reason="test: the platform's own event"):
        row = outbox_publish(event)
        assert services.event_fan_out(event=row) == 0


def test_texts_follow_the_persons_language_and_staffs_template(deal):
    booker = deal["booker"]
    booker.language = "ru"
    booker.save(update_fields=["language"])
    NotificationTemplate.objects.create(
        type="offer.received",
        channel="email",
        language="ru",
        subject="Новая цена {{ price }} {{ currency }}",
        body="Запрос {{ rfq_number }}",
    )

    relay(offer_submitted(deal))

    [notification] = notifications_of(booker)
    assert notification.title == "Предложение по RFQ-2026-000042: 1850.00 EUR"  # in-app: the default text
    email = deliveries_of(booker)["email"]
    assert (email.subject, email.body, email.language) == ("Новая цена 1850.00 EUR", "Запрос RFQ-2026-000042", "ru")
    assert notifications_of(deal["admin"])[0].title.startswith("Offer on")  # the admin reads English


def test_a_template_that_fails_on_a_payload_falls_back_to_the_default_text(deal):
    NotificationTemplate.objects.create(
        type="offer.received", channel="email", language="en", subject="{{ missing_field }}", body="x"
    )

    relay(offer_submitted(deal))

    assert deliveries_of(deal["admin"])["email"].subject == "Offer on RFQ-2026-000042: 1850.00 EUR"


def test_a_deactivated_member_is_not_told(deal):
    deal["booker"].is_active = False
    deal["booker"].save(update_fields=["is_active"])

    relay(offer_submitted(deal))

    assert notifications_of(deal["booker"]) == []
    assert len(notifications_of(deal["admin"])) == 1
