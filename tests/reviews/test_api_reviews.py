"""Reading reviews through the API: each organization reads the reviews it wrote or received and
no other (another tenant's review is 404), filtered by subject, reviewee and side; a hidden
review stays with its author only; every organization reads a reviewee's summary; lists run a
constant number of queries."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.context import system_scope, tenant_scope
from apps.reviews import services
from apps.tenancy.roles import Actor, Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.reviews.conftest import URL, completed_service_order, post_review

pytestmark = pytest.mark.django_db

SERVICE = "SERVICE_ORDER"


def reviewed_orders(field, count: int, *, rating: int = 5) -> list[str]:
    """`count` more completed orders of the expert, each reviewed by the customer (through the
    service, as a set-up): the review ids."""
    actor = Actor(user_id=field.customer.id, organization_id=field.customer_org.id, role=Role.CUSTOMER)
    ids = []
    for _ in range(count):
        order = completed_service_order(field)
        with tenant_scope(field.customer_org.id, user_id=field.customer.id):
            data = services.ReviewInput(subject_type=SERVICE, subject_id=order.id, rating=rating, text="Fine.")
            ids.append(str(services.review_create(actor=actor, data=data).id))
    return ids


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["data"]]


def test_both_parties_list_the_review_and_a_third_organization_gets_404(api, field):
    review = post_review(api, field.customer, SERVICE, field.order.id).json()
    stranger = member(OrganizationFactory(name="Nosy Ltd"), Role.ORG_ADMIN)

    assert ids(api(field.customer).get(URL)) == [review["id"]]
    assert ids(api(field.expert_user).get(URL)) == [review["id"]]
    assert ids(api(stranger).get(URL)) == []
    missing = api(stranger).get(f"{URL}/{review['id']}")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "NOT_FOUND"
    assert api(stranger).get(f"{URL}/{uuid.uuid4()}").status_code == 404


def test_the_list_filters_by_side_subject_and_reviewee(api, field):
    written = post_review(api, field.customer, SERVICE, field.order.id).json()["id"]
    received = post_review(api, field.expert_user, SERVICE, field.order.id).json()["id"]
    other_order = completed_service_order(field)
    other = post_review(api, field.customer, SERVICE, other_order.id).json()["id"]
    client = api(field.customer)

    assert ids(client.get(f"{URL}?mine=true")) == [other, written]
    assert ids(client.get(f"{URL}?mine=false")) == [received]
    assert ids(client.get(f"{URL}?subject_type={SERVICE}&subject_id={field.order.id}")) == [received, written]
    assert ids(client.get(f"{URL}?reviewee_type=EXPERT&reviewee_id={field.expert.id}")) == [other, written]
    assert ids(client.get(f"{URL}?reviewee_type=CUSTOMER")) == [received]
    assert ids(client.get(f"{URL}?subject_type=FREIGHT_ORDER")) == []


@pytest.mark.parametrize("query", ["?subject_type=PARCEL", "?subject_id=x", "?reviewee_type=", "?mine=perhaps"])
def test_an_invalid_filter_is_a_400(api, field, query):
    response = api(field.customer).get(f"{URL}{query}")

    assert response.status_code == 400
    assert response.json()["error_code"] in {"VALIDATION_FIELD_INVALID", "VALIDATION_FIELD_REQUIRED"}


def test_the_list_runs_the_same_queries_for_2_or_12_reviews(api, field):
    client = api(field.expert_user)
    reviewed_orders(field, 2)
    client.get(URL)  # warms the per-organization caches
    with CaptureQueriesContext(connection) as few:
        assert len(ids(client.get(f"{URL}?limit=5"))) == 2
    reviewed_orders(field, 10)
    with CaptureQueriesContext(connection) as many:
        assert len(ids(client.get(f"{URL}?limit=50"))) == 12

    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_summary_runs_one_query_whatever_the_number_of_reviews(api, field):
    client = api(field.customer)
    url = f"{URL}/summary?reviewee_type=EXPERT&reviewee_id={field.expert.id}"
    reviewed_orders(field, 1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).json()["count"] == 1
    reviewed_orders(field, 6, rating=3)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).json()["count"] == 7

    assert len(many.captured_queries) == len(few.captured_queries)


def test_every_organization_reads_a_reviewees_summary(api, field):
    reviewed_orders(field, 2, rating=4)
    stranger = member(OrganizationFactory(name="Choosing an expert"), Role.CUSTOMER)

    summary = api(stranger).get(f"{URL}/summary?reviewee_type=EXPERT&reviewee_id={field.expert.id}").json()

    assert (summary["average"], summary["count"]) == ("4.00", 2)
    assert [row["count"] for row in summary["histogram"]] == [0, 0, 0, 2, 0]


def test_a_reviewee_with_no_review_has_an_empty_summary(api, field):
    response = api(field.customer).get(f"{URL}/summary?reviewee_type=CARRIER&reviewee_id={uuid.uuid4()}")

    assert response.status_code == 200
    assert (response.json()["average"], response.json()["count"]) == ("0.00", 0)
    assert [row["count"] for row in response.json()["histogram"]] == [0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    "query", ["", "?reviewee_type=EXPERT", "?reviewee_type=EXPERT&reviewee_id=0c9b8a7d-6e5f-4a3b-9c2d-1e0f9a8b7c6dx"]
)
def test_the_summary_needs_a_reviewee(api, field, query):
    response = api(field.customer).get(f"{URL}/summary{query}")

    assert response.status_code == 400


def test_a_hidden_review_stays_with_its_author_and_leaves_the_summary(api, field):
    hidden, kept = reviewed_orders(field, 1, rating=1) + reviewed_orders(field, 1, rating=5)
    staff = UserFactory(is_staff=True)
    with system_scope(reason="test: staff moderate", actor_id=staff.id, audit=False):
        services.review_set_hidden(
            actor=Actor.staff(staff.id), review_id=uuid.UUID(hidden), hidden=True, reason="Insults."
        )

    # the reviewee no longer reads it, nor counts it; its author still sees it, marked
    assert ids(api(field.expert_user).get(URL)) == [kept]
    assert api(field.expert_user).get(f"{URL}/{hidden}").status_code == 404
    by_author = api(field.customer).get(f"{URL}/{hidden}").json()
    assert (by_author["is_hidden"], by_author["hidden_reason"]) == (True, "Insults.")
    summary = api(field.customer).get(f"{URL}/summary?reviewee_type=EXPERT&reviewee_id={field.expert.id}").json()
    assert (summary["average"], summary["count"]) == ("5.00", 1)


def test_reading_reviews_needs_review_read(api, field):
    clerk = member(field.customer_org, Role.WAREHOUSE_STAFF)

    for url in (URL, f"{URL}/{uuid.uuid4()}", f"{URL}/summary?reviewee_type=EXPERT&reviewee_id={field.expert.id}"):
        response = api(clerk).get(url)
        assert response.status_code == 403, url
        assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
