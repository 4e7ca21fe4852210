"""`?page=` as the schema states it: a whole number from 1 (or `last`); anything else is a
bad request, not a missing resource (issue 13, item 8)."""

import pytest

from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["abc", "-1", "0", "1.5", "", "\u0661"])  # U+0661: an Arabic-Indic one
def test_a_page_that_is_not_a_whole_number_from_one_is_400_naming_the_parameter(api, page):
    user = member(OrganizationFactory())

    response = api(user).get("/api/v1/organizations", {"page": page})

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "VALIDATION_FIELD_INVALID"
    assert list(body["details"]) == ["page"]


def test_a_valid_page_number_and_last_still_answer_the_page(api):
    user = member(OrganizationFactory())
    client = api(user)

    first = client.get("/api/v1/organizations", {"page": "1"})
    last = client.get("/api/v1/organizations", {"page": "last"})

    assert first.status_code == 200
    assert first.json()["meta"]["page"] == 1
    assert last.status_code == 200
    assert last.json()["meta"]["page"] == 1


def test_a_page_past_the_last_is_still_404(api):
    user = member(OrganizationFactory())

    response = api(user).get("/api/v1/organizations", {"page": "9"})

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
