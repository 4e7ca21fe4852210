"""JSON bodies the platform refuses in the envelope instead of failing on (issue 13, items 3 and 4):
nesting deeper than JSON_MAX_DEPTH, and text that PostgreSQL or UTF-8 cannot hold (NUL, lone
surrogates), in any field of any JSON body."""

import json
import uuid

import pytest
from django.test import Client

from tests.factories import FeatureFactory, OrganizationFactory, member

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = {"error_code", "message", "details", "timestamp", "request_id"}


def _nested(depth: int) -> dict:
    """A JSON object `depth` levels deep: {"a": {"a": ... {} }} (the outermost object is level 1)."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_deeply_nested_json_to_sign_in_is_400_in_the_envelope_not_a_server_error():
    # Given an anonymous client; when it sends fifty thousand opening brackets
    response = Client().generic("POST", "/api/v1/auth/login", "[" * 50_000, content_type="application/json")

    # then the parser refuses it before recursing, in the envelope
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["error_code"] == "VALIDATION_FIELD_INVALID"
    assert "nested" in body["message"]


def test_nesting_at_the_limit_is_accepted_and_one_level_more_is_refused(api, settings):
    settings.JSON_MAX_DEPTH = 8
    organization = OrganizationFactory()
    client = api(member(organization))
    url = f"/api/v1/organizations/{organization.id}"

    # The body is level 1 and `settings` level 2, so its value may nest 6 more levels.
    at_limit = client.patch(url, {"settings": _nested(7)}, format="json")
    over_limit = client.patch(url, {"settings": _nested(8)}, format="json")

    assert at_limit.status_code == 200, at_limit.content
    assert at_limit.json()["settings"] == _nested(7)
    assert over_limit.status_code == 400
    assert over_limit.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert over_limit.json()["details"] == {"max_depth": 8}


def test_brackets_inside_strings_do_not_count_as_nesting(api, settings):
    settings.JSON_MAX_DEPTH = 4
    organization = OrganizationFactory()
    client = api(member(organization))
    text = '[{"\\"[' * 50  # quotes, escaped quotes and brackets: all inside one string

    response = client.patch(f"/api/v1/organizations/{organization.id}", {"settings": {"note": text}}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["settings"] == {"note": text}


@pytest.mark.parametrize("text", ["a\u0000b", "\ud800", "x\udfff"], ids=["nul", "lone-high-surrogate", "lone-low"])
def test_nul_or_lone_surrogate_in_organization_settings_is_400_naming_the_field(api, text):
    organization = OrganizationFactory()
    client = api(member(organization))
    # json.dumps escapes both as \u0000 / \ud800, exactly what a hostile client sends.
    body = json.dumps({"settings": {"theme": {"label": text}}})

    response = client.generic(
        "PATCH", f"/api/v1/organizations/{organization.id}", body, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["error_code"] == "VALIDATION_FIELD_INVALID"
    assert list(payload["details"]) == ["settings"]
    assert "settings.theme.label" in payload["details"]["settings"][0]
    assert client.get(f"/api/v1/organizations/{organization.id}").json()["settings"] == {}


def test_nul_in_a_json_object_key_of_a_feature_config_is_400_naming_the_field(api):
    organization = OrganizationFactory()
    FeatureFactory(organization=organization, name="self_purchase", is_entitled=True, is_enabled=False)
    client = api(member(organization))

    response = client.generic(
        "PATCH",
        f"/api/v1/organizations/{organization.id}/features/self_purchase",
        json.dumps({"config": {"limit\u0000": 1}}),
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert list(response.json()["details"]) == ["config"]


def test_a_lone_surrogate_in_a_plain_text_field_is_400_not_a_server_error(api):
    organization = OrganizationFactory(name="Unchanged")
    client = api(member(organization))

    response = client.generic(
        "PATCH",
        f"/api/v1/organizations/{organization.id}",
        json.dumps({"city": "Ham\ud83dburg"}),
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    assert list(response.json()["details"]) == ["city"]


def test_a_proper_surrogate_pair_is_an_ordinary_character(api):
    organization = OrganizationFactory()
    client = api(member(organization))

    response = client.generic(
        "PATCH",
        f"/api/v1/organizations/{organization.id}",
        json.dumps({"settings": {"icon": "\U0001f69a"}}),  # sent as "\ud83d\ude9a"
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["settings"] == {"icon": "\U0001f69a"}


@pytest.mark.parametrize(
    ("method", "path"), [("PATCH", "/api/v1/kyc/verification-status"), ("POST", "/api/v1/returns")]
)
def test_views_with_their_own_parsers_refuse_deep_nesting_too(api, method, path):
    client = api(member(OrganizationFactory()))

    response = client.generic(method, path, "[" * 50_000, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"


def test_json_text_inside_a_multipart_form_is_held_to_the_same_limits(api):
    client = api(member(OrganizationFactory()))
    form = {"order": str(uuid.uuid4()), "reason": "damaged"}

    deep = client.post("/api/v1/returns", {**form, "items": "[" * 50_000}, format="multipart")
    nul = client.post(
        "/api/v1/returns",
        {**form, "items": json.dumps([{"order_item": "a\u0000", "quantity": 1}])},
        format="multipart",
    )

    assert deep.status_code == 400, deep.content
    assert "nested more than 64 levels" in deep.json()["details"]["items"][0]
    assert nul.status_code == 400, nul.content
    assert "NUL" in nul.json()["details"]["items"][0]
