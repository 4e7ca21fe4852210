import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_generates_without_a_single_warning(tmp_path):
    output = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(output))

    text = output.read_text()
    assert "/api/v1/organizations/{organization_id}/members" in text
    assert "bearerAuth" in text


@pytest.mark.django_db
def test_swagger_ui_is_served(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_documents_its_errors_as_the_envelope(schema):
    # Found by tests/core/test_schemathesis.py: only the success answers were documented.
    envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}

    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        for status in ("400", "401", "403", "429", "503"):
            assert responses[status]["content"] == envelope, (method, path, status)
        if "{" in path:
            assert "404" in responses, (method, path)
    assert set(schema["components"]["schemas"]["ErrorEnvelope"]["required"]) == {
        "error_code",
        "message",
        "details",
        "timestamp",
        "request_id",
    }


def test_an_error_documented_without_a_body_gets_the_envelope(schema):
    login_401 = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]["401"]

    assert login_401["description"].startswith("AUTH_TOKEN_INVALID")
    assert login_401["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorEnvelope"


def test_lists_are_documented_as_the_list_envelope_with_page_and_limit(schema):
    # Found by tests/core/test_schemathesis.py: lists were documented as bare arrays.
    operation = schema["paths"]["/api/v1/organizations/{organization_id}/members"]["get"]

    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert component["required"] == ["data", "meta"]
    assert component["properties"]["data"]["items"]["$ref"] == "#/components/schemas/Membership"
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"page", "limit"}


def test_blank_organization_contacts_are_documented_as_allowed(schema):
    # Found by tests/core/test_schemathesis.py: "" was answered where the schema promised an email/URL.
    properties = schema["components"]["schemas"]["Organization"]["properties"]

    for name in ("contact_email", "website"):
        assert {"type": "string", "maxLength": 0} in properties[name]["oneOf"], name


def test_a_kyc_file_download_documents_the_file_types_it_serves(schema):
    content = schema["paths"]["/api/v1/kyc/files/{token}"]["get"]["responses"]["200"]["content"]

    assert {"application/pdf", "image/jpeg", "image/png", "application/octet-stream"} <= set(content)
