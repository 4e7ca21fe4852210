"""Who hears of a review: the reviewed person (the expert) and the reviewed organization's admins,
dispatchers, shippers or carriers; nobody of the author's side. Events come from the real
service and are handed to the fan-out as the outbox relay does."""

from __future__ import annotations

import pytest

from apps.core.context import system_scope, tenant_scope, user_scope
from apps.core.models import OutboxEvent
from apps.notifications import services as notifications
from apps.notifications.models import Notification
from apps.notifications.rendering import render_default
from apps.tenancy.roles import Role
from tests.factories import member
from tests.reviews.conftest import post_review

pytestmark = pytest.mark.django_db


def relay_latest() -> dict:
    with system_scope(reason="test: find the event", audit=False):
        row = OutboxEvent.objects.filter(event_type="review.created").order_by("-created_at").first()
    with tenant_scope(row.organization_id):
        notifications.event_fan_out(event=row)
    return row.payload


def told(people: dict) -> dict[str, list[str]]:
    heard = {}
    for name, user in people.items():
        with user_scope(user.id):
            types = list(Notification.objects.filter(user=user).values_list("type", flat=True))
        if types:
            heard[name] = types
    return heard


def test_a_review_of_an_expert_tells_the_expert_and_their_organizations_admin(api, field):
    people = {
        "expert": field.expert_user,
        "expert admin": member(field.expert_org, Role.ORG_ADMIN),
        "expert colleague": member(field.expert_org, Role.EXPERT),
        "customer": field.customer,
        "customer admin": field.customer_admin,
    }
    post_review(api, field.customer, "SERVICE_ORDER", field.order.id, rating=4)

    payload = relay_latest()

    assert told(people) == {"expert": ["review.about_you"], "expert admin": ["review.received"]}
    text = render_default(type_key="review.about_you", language="en", context=payload)
    assert text.subject == "You were rated 4/5"
    assert field.order.number in text.body


def test_a_review_of_a_carrier_tells_the_carriers_people(api, shipper, carrier, freight_order):
    people = {"carrier admin": carrier.admin, "carrier": carrier.staff, "shipper": shipper.staff}
    post_review(api, shipper.staff, "FREIGHT_ORDER", freight_order, rating=2)

    payload = relay_latest()

    assert told(people) == {"carrier admin": ["review.received"], "carrier": ["review.received"]}
    text = render_default(type_key="review.received", language="ru", context=payload)
    assert text.subject == "Новый отзыв: 2/5"
