"""Who hears of what, for the rules beyond "members by role": chat participants who are away,
platform staff for disputes, the person for their own account's security events."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from apps.chat.presence import presence_join, presence_leave
from apps.core.context import system_scope, tenant_scope, user_scope
from apps.core.models import OutboxEvent
from apps.core.services import outbox_publish
from apps.disputes.events import DisputeOpened, DisputeResolutionAnswered
from apps.notifications import services
from apps.notifications.models import Notification
from apps.tenancy.roles import Role
from tests.chat.factories import order_thread, send, side
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def told(user) -> list[str]:
    with user_scope(user.id):
        return list(Notification.objects.filter(user=user).values_list("type", flat=True))


def fan_out_latest(event_type: str, organization_id) -> int:
    with tenant_scope(organization_id):
        row = OutboxEvent.objects.filter(event_type=event_type).order_by("-created_at").first()
        return services.event_fan_out(event=row)


@pytest.fixture
def chat():
    shipper, carrier = side("Baltic Shippers", Role.SHIPPER), side("Volga Carriers", Role.CARRIER)
    thread = order_thread(shipper, carrier)
    send(carrier, thread, "Truck at gate 4")  # the carrier's user takes part in the thread
    return shipper, carrier, thread


def test_a_chat_message_is_told_to_the_other_sides_participants_who_are_away(chat):
    shipper, carrier, thread = chat

    send(shipper, thread, "Thanks, loading now")
    fan_out_latest("chat.message_sent", shipper.org.id)

    assert told(carrier.user) == ["chat.message"]
    assert told(shipper.user) == []  # the sender


def test_a_participant_online_in_the_thread_is_not_told(chat):
    shipper, carrier, thread = chat
    async_to_sync(presence_join)(thread_ids=[str(thread.id)], user_id=carrier.user.id, channel_name="test.socket")
    try:
        send(shipper, thread, "Thanks, loading now")
        fan_out_latest("chat.message_sent", shipper.org.id)
    finally:
        async_to_sync(presence_leave)(thread_id=str(thread.id), user_id=carrier.user.id, channel_name="test.socket")

    assert told(carrier.user) == []


def _dispute_fields(parties) -> dict:
    return {
        "dispute_id": "9a3e2b1c-7d6f-4e5a-8b9c-0d1e2f3a4b5c",
        "number": "DSP-2026-000007",
        "order_id": "5b0f1c1e-8a4e-4d43-9d6e-2f1f3c9b7a10",
        "party_organization_ids": sorted(str(party.org.id) for party in parties),
    }


def test_a_new_dispute_is_told_to_both_parties_and_to_the_mediators():
    shipper, carrier = side("Baltic Shippers", Role.SHIPPER), side("Volga Carriers", Role.CARRIER)
    mediator, retired = UserFactory(is_staff=True), UserFactory(is_staff=True, is_active=False)
    event = DisputeOpened(
        organization_id=shipper.org.id,
        **_dispute_fields([shipper, carrier]),
        opened_by_side="client",
        reason_category="late",
        amount_claimed=None,
        currency="EUR",
        escrow_frozen=True,
        response_due_at="2026-12-10T00:00:00+00:00",
    )
    with tenant_scope(shipper.org.id, user_id=shipper.user.id):
        services.event_fan_out(event=outbox_publish(event))

    assert told(carrier.user) == ["dispute.updated"]
    assert told(mediator) == ["dispute.staff_attention"]
    assert told(retired) == []
    assert told(shipper.user) == []  # opened it


@pytest.mark.parametrize(("answer", "staff_told"), [("accepted", False), ("rejected", True)])
def test_staff_hear_of_a_rejected_resolution_not_of_an_accepted_one(answer, staff_told):
    shipper, carrier = side("Baltic Shippers", Role.SHIPPER), side("Volga Carriers", Role.CARRIER)
    mediator = UserFactory(is_staff=True)
    event = DisputeResolutionAnswered(
        organization_id=carrier.org.id,
        **_dispute_fields([shipper, carrier]),
        resolution_id="r1",
        kind="decision",
        side="supplier",
        answer=answer,
        reason="",
    )
    with tenant_scope(carrier.org.id, user_id=carrier.user.id):
        services.event_fan_out(event=outbox_publish(event))

    assert told(shipper.user) == ["dispute.updated"]
    assert (told(mediator) == ["dispute.staff_attention"]) is staff_told


def test_signing_in_from_a_new_browser_tells_the_person_and_a_known_one_does_not():
    user = UserFactory()

    def sign_in(browser: str) -> None:
        client = APIClient(HTTP_USER_AGENT=browser)
        credentials = {"email": user.email, "password": "correct-horse-battery"}
        response = client.post("/api/v1/auth/login", credentials, format="json")
        assert response.status_code == 200, response.json()

    sign_in("Firefox/140 on Linux")
    sign_in("Firefox/140 on Linux")
    with system_scope(reason="test: the platform's own events"):
        events = list(OutboxEvent.objects.filter(event_type="account.signed_in").order_by("created_at"))
        for row in events:
            services.event_fan_out(event=row)

    assert [row.payload["new_device"] for row in events] == [True, False]
    assert told(user) == ["security.sign_in"]


def test_changing_the_password_tells_the_person(api):
    user = UserFactory()
    response = api(user).post(
        "/api/v1/auth/change-password",
        {"current_password": "correct-horse-battery", "new_password": "an0ther-Long-passphrase"},
        format="json",
    )
    assert response.status_code in (200, 204), response.content
    with system_scope(reason="test: the platform's own events"):
        row = OutboxEvent.objects.get(event_type="account.password_changed")
        services.event_fan_out(event=row)

    assert row.payload["user_id"] == str(user.id) and row.payload["how"] == "changed"
    assert told(user) == ["security.password_changed"]
