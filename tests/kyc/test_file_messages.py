"""What a refused KYC file says (issue 13, item 8): the field is named in `details`, whichever
check refuses the name, and a size just over the limit never reads as the limit itself."""

from __future__ import annotations

import pytest

from tests.kyc.conftest import INN, pdf_bytes, pdf_file, stored_documents, upload

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def _multipart(file_name: str) -> tuple[bytes, str]:
    # Django's test client sends only a base name: the body is written by hand.
    boundary = "manifestboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="document_type"\r\n\r\ninn\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="number"\r\n\r\n{INN}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode(),
        pdf_bytes(),
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("file_name", ["../../etc/inn.pdf", "C:\\\\inn.pdf", ".."])
def test_a_file_name_with_a_path_names_the_file_field_in_details(api, shipper_org, file_name):
    organization, admin = shipper_org
    body, content_type = _multipart(file_name)

    response = api(admin).generic("POST", "/api/v1/kyc/documents", body, content_type=content_type)

    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["error_code"] == "VALIDATION_FIELD_INVALID"
    assert list(payload["details"]) == ["file"]
    assert "path" in payload["details"]["file"][0]
    assert stored_documents(organization.id) == []


def test_a_file_name_with_a_right_to_left_override_names_the_file_field(api, shipper_org):
    _, admin = shipper_org

    response = upload(api(admin), file=pdf_file("inn\u202efdp.exe"))

    assert response.status_code == 400, response.content
    assert list(response.json()["details"]) == ["file"]


def test_a_file_just_over_the_limit_does_not_read_as_the_limit(api, shipper_org, settings):
    _, admin = shipper_org
    settings.KYC_MAX_FILE_BYTES = 10 * MB
    size = int(10.05 * MB)  # 10.05 MB: one decimal rounds it to "10.0 MB", the limit itself
    data = pdf_bytes()
    data = data + b"\n" * (size - len(data))

    response = upload(api(admin), file=pdf_file("inn.pdf", data))

    assert response.status_code == 400, response.content
    message = response.json()["details"]["file"][0]
    assert message == "The file is 10.05 MB; the limit is 10 MB.", message


def test_a_file_one_byte_over_the_limit_is_told_in_bytes(api, shipper_org, settings):
    _, admin = shipper_org
    settings.KYC_MAX_FILE_BYTES = 10 * MB
    data = pdf_bytes()
    data = data + b"\n" * (10 * MB + 1 - len(data))

    response = upload(api(admin), file=pdf_file("inn.pdf", data))

    assert response.status_code == 400, response.content
    message = response.json()["details"]["file"][0]
    assert message == "The file is 10,485,761 bytes; the limit is 10,485,760 bytes (10 MB).", message
