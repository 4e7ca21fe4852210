"""A KYC file's download link answers `Accept: application/pdf` (issue 13, item 8): the file is
the answer whatever `Accept` says (RFC 9110 lets a server disregard it), never 406."""

import pytest

from tests.kyc.conftest import upload

pytestmark = pytest.mark.django_db


def test_a_kyc_file_download_answers_accept_application_pdf(api, shipper_org, client):
    _, admin = shipper_org
    created = upload(api(admin)).json()

    response = client.get(created["download_url"], HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_an_expired_link_with_accept_pdf_is_still_a_404_in_the_envelope(api, shipper_org, client, settings):
    _, admin = shipper_org
    url = upload(api(admin)).json()["download_url"]
    settings.KYC_DOWNLOAD_URL_MAX_AGE = -1

    response = client.get(url, HTTP_ACCEPT="application/pdf")

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
