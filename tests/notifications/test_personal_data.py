"""A person's notifications in their data export, and gone with their erasure."""

from __future__ import annotations

import pytest

from apps.accounts.services.personal_data import erasure_carry_out, erasure_request_create, personal_data_collect
from apps.core.actors import Actor
from apps.core.context import system_scope, user_scope
from apps.notifications.models import Delivery, Notification, NotificationPreference, PushSubscription
from tests.factories import UserFactory
from tests.notifications.support import offer_submitted, relay

pytestmark = pytest.mark.django_db


def test_the_export_holds_the_persons_notifications_and_choices(deal):
    relay(offer_submitted(deal))
    with user_scope(deal["admin"].id):
        NotificationPreference.objects.create(user=deal["admin"], type="offer.received", sms=True)

    with system_scope(reason="test: the export walks every context"):
        data = personal_data_collect(user_id=deal["admin"].id)

    [notification] = data["notifications"]
    assert notification["title"] == "Offer on RFQ-2026-000042: 1850.00 EUR"
    assert {
        "type": "offer.received",
        "in_app": True,
        "email": True,
        "sms": True,
        "push": True,
        "digest": "immediate",
    } in data["notification_preferences"]


def test_erasure_takes_the_persons_notifications_deliveries_and_subscriptions(deal):
    person = deal["booker"]  # not the organization's only admin: free to go
    relay(offer_submitted(deal))
    with user_scope(person.id):
        PushSubscription.objects.create(user=person, endpoint="https://push.example/x", p256dh="k", auth="a")
        request = erasure_request_create(user=person, password="correct-horse-battery")
    with system_scope(reason="test: due now"):
        type(request).objects.filter(pk=request.pk).update(status="scheduled")

    with system_scope(reason="test: staff carry out the erasure"):
        erasure_carry_out(request_id=request.id, actor=Actor.staff(UserFactory(is_staff=True).id))

    with system_scope(reason="test: what is left"):
        assert not Notification.objects.filter(user=person).exists()
        assert not Delivery.objects.filter(user=person).exists()
        assert not PushSubscription.objects.filter(user=person).exists()
        assert Notification.objects.filter(user=deal["admin"]).count() == 1  # others keep theirs
