from tests.factories import OrganizationFactory, member


def test_me_lists_the_users_memberships(db, api):
    organization = OrganizationFactory()
    user = member(organization)

    response = api(user).get("/api/v1/me")

    assert response.status_code == 200, response.content
    assert [m["organization"]["id"] for m in response.json()["memberships"]] == [str(organization.id)]
