"""A download link answers what a PDF viewer or a browser asks for (issue 13, item 8): the
file is the answer whatever `Accept` says (RFC 9110 lets a server disregard it), never 406."""

import pytest

from tests.documents.conftest import generated_and_rendered

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("accept", ["application/pdf", "application/pdf, */*;q=0.1", "text/html", "image/png"])
def test_a_document_download_answers_the_pdf_whatever_the_accept_header(api, parties, order, client, accept):
    body = generated_and_rendered(api(parties["carrier"]), order, parties["carrier_org"])

    response = client.get(body["download_url"], HTTP_ACCEPT=accept)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
