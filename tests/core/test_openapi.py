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
