"""Sending deliveries over real wires: SMTP to the mail catcher, HTTP to the SMS and push sandboxes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.core.context import system_scope, user_scope
from apps.notifications import services, tasks
from apps.notifications.models import (
    Delivery,
    DeliveryAttempt,
    Notification,
    NotificationPreference,
    PushSubscription,
)
from tests.beat import run_beat_job
from tests.factories import member
from tests.notifications.support import deliveries_of, offer_submitted, relay

pytestmark = pytest.mark.django_db


def send_due(user, channel: str, *, now=None) -> dict:
    with user_scope(user.id):
        ids = list(Delivery.objects.filter(user=user, channel=channel).values_list("id", flat=True))
    return services.deliveries_send(channel=channel, items=[[str(user.id), str(i)] for i in ids], now=now)


def attempts_of(delivery) -> list[DeliveryAttempt]:
    with user_scope(delivery.user_id):
        return list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("number"))


def test_an_email_goes_through_smtp_to_the_catcher_and_is_recorded_sent(deal, notification_sandboxes):
    relay(offer_submitted(deal))

    assert send_due(deal["admin"], "email") == {"sent": 1}

    [mail] = notification_sandboxes.mail.wait_for(deal["admin"].email)
    assert mail["subject"] == "Offer on RFQ-2026-000042: 1850.00 EUR"
    assert "offered 1850.00 EUR on RFQ RFQ-2026-000042" in mail["text"]
    email = deliveries_of(deal["admin"])["email"]
    assert email.status == "sent" and email.sent_at is not None
    assert email.provider_id == mail["headers"]["Message-ID"]
    [attempt] = attempts_of(email)
    assert (attempt.number, attempt.status, attempt.provider_id) == (1, "sent", email.provider_id)


def test_sending_again_what_was_sent_sends_nothing(deal, notification_sandboxes):
    relay(offer_submitted(deal))
    send_due(deal["admin"], "email")

    assert send_due(deal["admin"], "email") == {}

    assert len(notification_sandboxes.mail.messages(deal["admin"].email)) == 1


def test_an_address_the_server_refuses_is_bounced_at_once(deal, notification_sandboxes):
    deal["admin"].email = f"gone-{deal['admin'].id}@bounce.test"
    deal["admin"].save(update_fields=["email"])
    relay(offer_submitted(deal))

    assert send_due(deal["admin"], "email") == {"bounced": 1}

    email = deliveries_of(deal["admin"])["email"]
    assert email.status == "bounced"
    assert "550" in email.last_error
    assert [a.status for a in attempts_of(email)] == ["bounced"]


def test_a_deferred_address_is_retried_with_growing_waits_then_failed(deal, notification_sandboxes, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "MAX_ATTEMPTS": 3}
    deal["admin"].email = f"later-{deal['admin'].id}@tempfail.test"
    deal["admin"].save(update_fields=["email"])
    relay(offer_submitted(deal))

    now = timezone.now()
    waits = []
    for _ in range(2):
        assert send_due(deal["admin"], "email", now=now) == {"retry": 1}
        email = deliveries_of(deal["admin"])["email"]
        assert email.status == "queued"
        waits.append(email.due_at - email.updated_at)
        now = email.due_at  # the sweep's next look
    assert send_due(deal["admin"], "email", now=now) == {"retry": 1}

    email = deliveries_of(deal["admin"])["email"]
    assert (email.status, email.attempts) == ("failed", 3)
    # 60 s then 120 s before jitter: each wait lies in the upper half of its ceiling.
    assert dt.timedelta(seconds=30) <= waits[0] <= dt.timedelta(seconds=60)
    assert dt.timedelta(seconds=60) <= waits[1] <= dt.timedelta(seconds=120)
    assert [a.status for a in attempts_of(email)] == ["failed", "failed", "failed"]


def test_a_delivery_is_not_sent_before_it_is_due(deal, notification_sandboxes):
    relay(offer_submitted(deal))
    with system_scope(reason="test"):
        Delivery.objects.update(due_at=timezone.now() + dt.timedelta(hours=1))

    assert send_due(deal["admin"], "email") == {}
    assert notification_sandboxes.mail.messages(deal["admin"].email) == []


def test_digested_emails_due_together_go_as_one_message(deal, notification_sandboxes):
    relay(offer_submitted(deal, rfq_number="RFQ-2026-000001"))
    relay(offer_submitted(deal, rfq_number="RFQ-2026-000002"))
    with system_scope(reason="test: two deliveries gathered for the digest"):
        Delivery.objects.filter(user=deal["admin"]).update(digest="hourly")

    assert send_due(deal["admin"], "email") == {"sent": 2}

    [mail] = notification_sandboxes.mail.wait_for(deal["admin"].email)
    assert mail["subject"] == "Manifest: 2 updates"
    assert "RFQ-2026-000001" in mail["text"] and "RFQ-2026-000002" in mail["text"]
    with user_scope(deal["admin"].id):
        provider_ids = set(Delivery.objects.filter(user=deal["admin"]).values_list("provider_id", flat=True))
    assert provider_ids == {mail["headers"]["Message-ID"]}


def test_the_beat_sweep_sends_what_quiet_hours_held_once_they_are_over(deal, notification_sandboxes):
    relay(offer_submitted(deal))
    with system_scope(reason="test: held by quiet hours that are now over"):
        Delivery.objects.update(due_at=timezone.now() - dt.timedelta(minutes=1))

    results = run_beat_job(tasks.deliveries_send_due)

    assert results == [{"sent": 2}]
    notification_sandboxes.mail.wait_for(deal["admin"].email)
    notification_sandboxes.mail.wait_for(deal["booker"].email)


def test_an_sms_goes_to_a_confirmed_phone_and_its_report_marks_it_delivered(deal, notification_sandboxes):
    person = deal["admin"]
    person.phone, person.phone_verified_at = "+4915112340001", timezone.now()
    person.save(update_fields=["phone", "phone_verified_at"])
    with user_scope(person.id):  # offer.received sends no SMS unless asked for
        NotificationPreference.objects.create(user=person, type="offer.received", sms=True)
    relay(offer_submitted(deal))

    assert send_due(person, "sms") == {"sent": 1}

    [message] = notification_sandboxes.sms.messages(person.phone)
    assert message["body"] == "Offer on RFQ-2026-000042: 1850.00 EUR"
    sms = deliveries_of(person)["sms"]
    assert sms.status == "sent" and sms.provider_id == message["id"]
    notification_sandboxes.sms.wait_for_report(message["id"])  # the sandbox reports it delivered
    assert services.delivery_report_record(provider_id=message["id"], status="delivered") is True
    sms = deliveries_of(person)["sms"]
    assert sms.status == "delivered" and sms.delivered_at is not None
    assert [a.status for a in attempts_of(sms)] == ["delivered"]


def test_an_unconfirmed_phone_gets_no_sms(deal, notification_sandboxes):
    person = deal["admin"]
    person.phone = "+4915112340002"  # typed in, never confirmed
    person.save(update_fields=["phone"])
    with user_scope(person.id):
        NotificationPreference.objects.create(user=person, type="offer.received", sms=True)

    relay(offer_submitted(deal))

    assert "sms" not in deliveries_of(person)


def test_a_push_reaches_every_browser_of_the_person_and_a_dead_one_is_forgotten(deal, notification_sandboxes):
    person = deal["admin"]
    live, dead = notification_sandboxes.push.subscribe(), notification_sandboxes.push.subscribe()
    for subscription in (live, dead):
        with user_scope(person.id):
            services.push_subscription_add(
                user_id=person.id,
                endpoint=subscription["endpoint"],
                p256dh=subscription["keys"]["p256dh"],
                auth=subscription["keys"]["auth"],
            )
    notification_sandboxes.push.unsubscribe(dead["id"])

    relay(offer_submitted(deal))
    assert send_due(person, "push") == {"sent": 1}

    [message] = notification_sandboxes.push.messages(live["id"])
    assert message["json"]["title"] == "Offer on RFQ-2026-000042: 1850.00 EUR"
    assert deliveries_of(person)["push"].status == "sent"
    with user_scope(person.id):
        assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [live["endpoint"]]


def test_a_push_service_that_is_down_is_retried_later(deal, notification_sandboxes):
    person = deal["admin"]
    flaky = notification_sandboxes.push.subscribe(answer_status=503)
    with user_scope(person.id):
        PushSubscription.objects.create(
            user=person, endpoint=flaky["endpoint"], p256dh=flaky["keys"]["p256dh"], auth=flaky["keys"]["auth"]
        )
    relay(offer_submitted(deal))

    assert send_due(person, "push") == {"retry": 1}

    push = deliveries_of(person)["push"]
    assert push.status == "queued" and push.due_at > timezone.now()


def test_a_report_for_an_unknown_message_changes_nothing(deal):
    assert services.delivery_report_record(provider_id="sms_unknown", status="delivered") is False


def test_a_member_without_any_address_still_gets_the_in_app_notification(deal):
    person = member(deal["shipper"])
    relay(offer_submitted(deal))
    with user_scope(person.id):
        assert Notification.objects.filter(user=person).count() == 1
