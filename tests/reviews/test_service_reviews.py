"""Reviews of a completed service order: the customer rates the expert (which fills the expert
passport's rating), the expert rates the customer organization; once per party; only completed
orders; a stranger, or a customer of someone else's order, gets 404; the aggregate is exact;
`review.created` reaches the outbox with what points and notifications need."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.context import system_scope
from apps.core.models import AuditLog, OutboxEvent
from apps.reviews.models import Review, ReviewSummary
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.reviews.conftest import URL, completed_service_order, expert_rating, post_review

pytestmark = pytest.mark.django_db

SERVICE = "SERVICE_ORDER"


def stored_reviews() -> list[Review]:
    with system_scope(reason="test: the reviews", audit=False):
        return list(Review.objects.order_by("created_at"))


def events(event_type: str = "review.created") -> list[OutboxEvent]:
    with system_scope(reason="test: the events", audit=False):
        return list(OutboxEvent.objects.filter(event_type=event_type).order_by("created_at"))


def test_the_customer_reviews_the_expert_and_the_expert_passport_shows_the_rating(api, field):
    # when the customer who ordered the work rates the expert 4
    response = post_review(api, field.customer, SERVICE, field.order.id, rating=4, text="  Careful, a bit late.  ")

    # then the review is the expert's, as both sides read it, and the passport's rating is 4.00 of 1
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["reviewee_type"], body["reviewee_id"], body["reviewee_organization_id"]) == (
        "EXPERT",
        str(field.expert.id),
        str(field.expert_org.id),
    )
    assert (body["subject_type"], body["subject_id"], body["subject_number"]) == (
        SERVICE,
        str(field.order.id),
        field.order.number,
    )
    assert (body["author_user_id"], body["author_organization_id"]) == (
        str(field.customer.id),
        str(field.customer_org.id),
    )
    assert (body["author_organization_name"], body["reviewee_organization_name"]) == ("Kama Pumps", "Volga Service")
    assert (body["rating"], body["text"], body["is_hidden"], body["mine"]) == (4, "Careful, a bit late.", False, True)
    assert expert_rating(field.expert) == (Decimal("4.00"), 1)
    seen_by_expert = api(field.expert_user).get(f"{URL}/{body['id']}").json()
    assert seen_by_expert == {**body, "mine": False}


def test_the_expert_reviews_the_customer_organization(api, field):
    response = post_review(api, field.expert_user, SERVICE, field.order.id, rating=5, text="Clear brief, paid at once.")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["reviewee_type"], body["reviewee_id"], body["reviewee_organization_id"]) == (
        "CUSTOMER",
        str(field.customer_org.id),
        str(field.customer_org.id),
    )
    # the expert's own rating is untouched by a review the expert wrote
    assert expert_rating(field.expert) == (Decimal("0.00"), 0)
    summary = api(field.expert_user).get(f"{URL}/summary?reviewee_type=CUSTOMER&reviewee_id={field.customer_org.id}")
    assert (summary.json()["average"], summary.json()["count"]) == ("5.00", 1)


def test_each_party_reviews_once_and_a_second_review_is_refused_without_changing_anything(api, field):
    assert post_review(api, field.customer, SERVICE, field.order.id, rating=5).status_code == 201
    assert post_review(api, field.expert_user, SERVICE, field.order.id, rating=4).status_code == 201

    # when the customer's organization tries again, through its admin
    again = post_review(api, field.customer_admin, SERVICE, field.order.id, rating=1, text="Second thoughts.")

    # then 422, one review per party stays, and neither the rating nor the outbox moved
    assert again.status_code == 422
    assert again.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert again.json()["message"] == (
        f"Your organization has reviewed service order {field.order.number} already: one review per party."
    )
    assert again.json()["details"] == {"subject_id": ["Reviewed by your organization already."]}
    assert [review.rating for review in stored_reviews()] == [5, 4]
    assert expert_rating(field.expert) == (Decimal("5.00"), 1)
    assert len(events()) == 2


@pytest.mark.parametrize("status", ["PENDING", "ASSIGNED", "IN_PROGRESS", "CANCELLED"])
def test_a_service_order_not_completed_is_refused(api, field, status):
    order = completed_service_order(field, status=status, completed_at=None)

    response = post_review(api, field.customer, SERVICE, order.id)

    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert response.json()["details"] == {"subject_id": [f"The service order is {status}, not COMPLETED."]}
    assert stored_reviews() == [] and events() == []


def test_an_organization_that_is_no_party_gets_404(api, field):
    stranger = member(OrganizationFactory(name="Nosy Ltd"), Role.ORG_ADMIN)

    response = post_review(api, stranger, SERVICE, field.order.id)

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
    assert stored_reviews() == []


def test_an_unknown_order_gets_404(api, field):
    response = post_review(api, field.customer, SERVICE, "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d")

    assert response.status_code == 404


def test_a_customer_reviews_only_their_own_orders(api, field):
    # given another customer of the same organization, who did not order this work
    colleague = member(field.customer_org, Role.CUSTOMER)

    response = post_review(api, colleague, SERVICE, field.order.id)

    # then for them the order does not exist (review:create:own); the admin may review it
    assert response.status_code == 404
    assert post_review(api, field.customer_admin, SERVICE, field.order.id).status_code == 201


def test_an_expert_reviews_only_the_orders_they_worked(api, field):
    colleague = member(field.expert_org, Role.EXPERT)

    assert post_review(api, colleague, SERVICE, field.order.id).status_code == 404
    assert post_review(api, field.expert_user, SERVICE, field.order.id).status_code == 201


def test_a_role_without_review_create_is_refused(api, field):
    clerk = member(field.customer_org, Role.WAREHOUSE_STAFF)

    response = post_review(api, clerk, SERVICE, field.order.id)

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_the_expert_rating_is_the_exact_average_of_its_reviews(api, field):
    # given three customers' organizations, each with a completed order of the expert
    ratings = [5, 4, 4]
    for rating in ratings:
        other = OrganizationFactory()
        customer = member(other, Role.CUSTOMER)
        order = completed_service_order(field, customer=customer)
        order.organization = other
        with system_scope(reason="test: move the order to another customer", audit=False):
            order.save(update_fields=["organization"])
        assert post_review(api, customer, SERVICE, order.id, rating=rating).status_code == 201

    # then 13 / 3 = 4.333... rounds to 4.33, of 3, and the summary holds the histogram
    assert expert_rating(field.expert) == (Decimal("4.33"), 3)
    summary = api(field.customer).get(f"{URL}/summary?reviewee_type=EXPERT&reviewee_id={field.expert.id}").json()
    assert summary == {
        "reviewee_type": "EXPERT",
        "reviewee_id": str(field.expert.id),
        "average": "4.33",
        "count": 3,
        "histogram": [
            {"rating": 1, "count": 0},
            {"rating": 2, "count": 0},
            {"rating": 3, "count": 0},
            {"rating": 4, "count": 2},
            {"rating": 5, "count": 1},
        ],
    }


def test_the_aggregate_counts_every_completed_order_of_the_expert(api, field):
    # the same customer organization reviews two orders of the expert: 4 and 5 average 4.50
    second = completed_service_order(field)
    assert post_review(api, field.customer, SERVICE, field.order.id, rating=4).status_code == 201
    assert post_review(api, field.customer_admin, SERVICE, second.id, rating=5).status_code == 201

    assert expert_rating(field.expert) == (Decimal("4.50"), 2)


@pytest.mark.parametrize(
    ("change", "field_name", "code"),
    [
        ({"rating": 0}, "rating", "VALIDATION_FIELD_INVALID"),
        ({"rating": 6}, "rating", "VALIDATION_FIELD_INVALID"),
        ({"rating": 4.5}, "rating", "VALIDATION_FIELD_INVALID"),
        ({"text": "   "}, "text", "VALIDATION_FIELD_REQUIRED"),
        ({"text": "x" * 2001}, "text", "VALIDATION_FIELD_INVALID"),
        ({"text": 5}, "text", "VALIDATION_FIELD_INVALID"),
        ({"subject_type": "PARCEL"}, "subject_type", "VALIDATION_FIELD_INVALID"),
        ({"subject_id": "not-a-uuid"}, "subject_id", "VALIDATION_FIELD_INVALID"),
    ],
)
def test_invalid_fields_are_refused_and_nothing_is_written(api, field, change, field_name, code):
    body = {"subject_type": SERVICE, "subject_id": str(field.order.id), "rating": 5, "text": "Good.", **change}

    response = api(field.customer).post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["error_code"] == code
    assert field_name in response.json()["details"]
    assert stored_reviews() == []
    assert expert_rating(field.expert) == (Decimal("0.00"), 0)


def test_the_longest_text_is_kept_whole(api, field):
    response = post_review(api, field.customer, SERVICE, field.order.id, text="y" * 2000)

    assert response.status_code == 201
    assert len(response.json()["text"]) == 2000


def test_the_review_is_published_to_the_outbox_for_points_and_notifications(api, field):
    review = post_review(api, field.customer, SERVICE, field.order.id, rating=3).json()

    [event] = events()
    assert event.organization_id == field.customer_org.id  # the acting organization
    assert event.aggregate_id == review["id"]
    assert event.payload == {
        "review_id": review["id"],
        "author_user_id": str(field.customer.id),
        "subject_type": SERVICE,
        "subject_id": str(field.order.id),
        "subject_number": field.order.number,
        "reviewee_type": "EXPERT",
        "reviewee_id": str(field.expert.id),
        "reviewee_organization_id": str(field.expert_org.id),
        "reviewee_user_id": str(field.expert_user.id),
        "rating": 3,
        "offering_id": None,
        "party_organization_ids": sorted([str(field.customer_org.id), str(field.expert_org.id)]),
    }
    with system_scope(reason="test: the audit log", audit=False):
        assert AuditLog.objects.filter(action="review.created", resource_id=review["id"]).count() == 1
        # writing the expert's aggregate crossed tenants in the audited all-tenants scope
        assert AuditLog.objects.filter(action="rls.bypass", actor_id=field.customer.id).exists()


def test_the_same_idempotency_key_replays_the_first_review(api, field):
    key = {"HTTP_IDEMPOTENCY_KEY": "review-1"}
    first = post_review(api, field.customer, SERVICE, field.order.id, headers=key)
    replay = post_review(api, field.customer, SERVICE, field.order.id, headers=key)

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert len(stored_reviews()) == 1 and len(events()) == 1
    with system_scope(reason="test: the summary", audit=False):
        assert ReviewSummary.objects.get(reviewee_id=field.expert.id).review_count == 1
