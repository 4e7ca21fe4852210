"""Reviews in the back-office: read-only; platform staff see every organization's and hide an
abusive review with a reason (the reviewee's rating is recomputed without it, audited) or put
it back; an organization admin sees the reviews their organization wrote or received, a hidden
one only as its author, and cannot hide."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.core.context import system_scope
from apps.core.models import AuditLog
from apps.reviews.models import Review
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.reviews.conftest import completed_service_order, expert_rating, post_review
from tests.reviews.factories import ServiceOrderFactory
from tests.support import admin_client

pytestmark = pytest.mark.django_db

REVIEWS = reverse("admin:reviews_review_changelist")
ACTION_ROWS = "_selected_action"
SERVICE = "SERVICE_ORDER"


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def two_reviews(api, field) -> tuple[str, str]:
    """The customer's review of the expert (1, abusive) and of another order (5)."""
    abusive = post_review(api, field.customer, SERVICE, field.order.id, rating=1, text="Crook!!!").json()["id"]
    fair = post_review(api, field.customer, SERVICE, completed_service_order(field).id, rating=5).json()["id"]
    return abusive, fair


def rows_of(page: str, number: str) -> int:
    """How many rows of the list show the order `number`."""
    return page.count(f'<td class="field-subject_number">{number}</td>')


def stored(review_id) -> Review:
    with system_scope(reason="test: the review", audit=False):
        return Review.objects.get(pk=review_id)


def test_staff_see_every_organizations_reviews_read_only(field, two_reviews, staff):
    client = admin_client(staff)

    page = client.get(REVIEWS).content.decode()
    detail = client.get(reverse("admin:reviews_review_change", args=[two_reviews[0]])).content.decode()

    assert rows_of(page, field.order.number) == 1 and "Kama Pumps" in page
    assert "Crook!!!" in detail and 'name="_save"' not in detail
    assert client.get(reverse("admin:reviews_review_add")).status_code == 403


def test_staff_hide_an_abusive_review_with_a_reason_and_the_rating_is_recomputed(field, two_reviews, staff):
    abusive, _ = two_reviews
    assert expert_rating(field.expert) == (Decimal("3.00"), 2)
    client = admin_client(staff)
    chosen = {"action": "hide_reviews", ACTION_ROWS: [abusive]}

    asked = client.post(REVIEWS, chosen | {"index": "0"})
    done = client.post(REVIEWS, chosen | {"apply": "yes", "reason": "Insults, no content."}, follow=True)

    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    assert "1 review(s) hidden." in done.content.decode()
    review = stored(abusive)
    assert (review.is_hidden, review.hidden_reason, review.hidden_by_id) == (True, "Insults, no content.", staff.id)
    assert expert_rating(field.expert) == (Decimal("5.00"), 1)
    with system_scope(reason="test: the audit log", audit=False):
        row = AuditLog.objects.get(action="review.hidden", resource_id=abusive)
    assert (row.actor_id, row.organization_id) == (staff.id, field.customer_org.id)


def test_hiding_without_a_reason_hides_nothing(field, two_reviews, staff):
    response = admin_client(staff).post(
        REVIEWS, {"action": "hide_reviews", ACTION_ROWS: [two_reviews[0]], "apply": "yes", "reason": "  "}
    )

    assert response.status_code == 200
    assert "Say why." in response.content.decode()
    assert stored(two_reviews[0]).is_hidden is False
    assert expert_rating(field.expert) == (Decimal("3.00"), 2)


def test_staff_put_a_hidden_review_back_and_it_counts_again(field, two_reviews, staff):
    client = admin_client(staff)
    client.post(REVIEWS, {"action": "hide_reviews", ACTION_ROWS: [two_reviews[0]], "apply": "yes", "reason": "x"})

    done = client.post(REVIEWS, {"action": "show_reviews", ACTION_ROWS: [two_reviews[0]], "index": "0"}, follow=True)

    assert "1 review(s) put back." in done.content.decode()
    assert stored(two_reviews[0]).is_hidden is False
    assert expert_rating(field.expert) == (Decimal("3.00"), 2)


def test_an_organization_admin_sees_their_organizations_reviews_and_cannot_hide(api, field, two_reviews, staff):
    # given a review between two other organizations
    elsewhere_org = OrganizationFactory(name="Elsewhere Ltd")
    other_customer = member(elsewhere_org, Role.CUSTOMER)
    elsewhere = ServiceOrderFactory(organization=elsewhere_org, customer=other_customer)
    assert post_review(api, other_customer, SERVICE, elsewhere.id).status_code == 201
    expert_admin = member(field.expert_org, Role.ORG_ADMIN)

    customer_page = admin_client(field.customer_admin).get(REVIEWS).content.decode()
    expert_client = admin_client(expert_admin)
    expert_page = expert_client.get(REVIEWS).content.decode()

    # each side's admin sees the two reviews between them (received or written), no action
    assert rows_of(customer_page, field.order.number) == rows_of(expert_page, field.order.number) == 1
    assert "hide_reviews" not in customer_page and "hide_reviews" not in expert_page
    assert rows_of(customer_page, elsewhere.number) == rows_of(expert_page, elsewhere.number) == 0
    assert rows_of(admin_client(staff).get(REVIEWS).content.decode(), elsewhere.number) == 1
    refused = expert_client.post(
        REVIEWS, {"action": "hide_reviews", ACTION_ROWS: [two_reviews[0]], "apply": "yes", "reason": "Mean."}
    )
    assert refused.status_code in (200, 302, 403)
    assert stored(two_reviews[0]).is_hidden is False

    # once staff hide one, its reviewee's admin no longer sees it; its author's still does
    admin_client(staff).post(
        REVIEWS, {"action": "hide_reviews", ACTION_ROWS: [two_reviews[0]], "apply": "yes", "reason": "x"}
    )
    assert rows_of(expert_client.get(REVIEWS).content.decode(), field.order.number) == 0
    assert rows_of(admin_client(field.customer_admin).get(REVIEWS).content.decode(), field.order.number) == 1
