"""A passport's QR code (SVG, PNG) and printable labels (PDF) through the API: what the code
encodes (a GS1 Digital Link with a GTIN, /p/<code> without), that the files open, and that
another organization's passport is not there."""

from __future__ import annotations

import io
import math
import re
import uuid
from xml.etree import ElementTree

import pytest
import zxingcpp
from django.conf import settings
from PIL import Image
from pypdf import PdfReader

from apps.passports.qr import qr_matrix
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.passports.conftest import register

pytestmark = pytest.mark.django_db

SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
QUIET_ZONE = 4


def base_url() -> str:
    return settings.PASSPORTS["PUBLIC_BASE_URL"]


def dark_modules_of_svg(svg: bytes) -> set[tuple[int, int]]:
    """The dark modules a segno SVG draws: one path of horizontal strokes (`M x y`, `m dx dy`,
    `h length`), each stroke one module high, centred on its row; quiet zone removed."""
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own answer, not untrusted input
    assert root.tag == f"{SVG_NAMESPACE}svg"
    (path,) = root.iter(f"{SVG_NAMESPACE}path")
    x = y = 0.0
    dark = set()
    for command, first, second in re.findall(r"([MmHh])\s*(-?[0-9.]+)(?:[ ,](-?[0-9.]+))?", path.get("d")):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            length = float(first) if command == "h" else float(first) - x
            dark.update((math.floor(y) - QUIET_ZONE, int(x + step) - QUIET_ZONE) for step in range(int(length)))
            x += length
    return dark


def dark_modules(uri: str) -> set[tuple[int, int]]:
    return {(row, column) for row, line in enumerate(qr_matrix(uri)) for column, dark in enumerate(line) if dark}


def decoded(png: bytes) -> str:
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return barcode.text


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def gtin_passport(operator, manufacturer):
    return register(operator, manufacturer, serial_number="SN/42", gtin="4012345123456")


@pytest.fixture
def foreign_passport(claimant_admin, claimant_organization):
    return register(claimant_admin, claimant_organization, manufacturer="Baltic Pumps", serial_number="BP-1")


def test_the_svg_qr_of_a_passport_without_gtin_encodes_its_code_link(api, operator, passport):
    response = api(operator).get(f"/api/v1/passports/{passport.id}/qr.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == f'inline; filename="{passport.code}.svg"'
    assert dark_modules_of_svg(response.content) == dark_modules(f"{base_url()}/p/{passport.code}")


def test_the_png_qr_of_a_passport_with_gtin_decodes_to_its_digital_link(api, operator, gtin_passport):
    response = api(operator).get(f"/api/v1/passports/{gtin_passport.id}/qr.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'inline; filename="{gtin_passport.code}.png"'
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    # GTIN-14 (zeros in front) and the serial percent-encoded, its slash included.
    assert decoded(response.content) == f"{base_url()}/01/04012345123456/21/SN%2F42"


def test_the_png_qr_of_a_passport_without_gtin_decodes_to_its_code_link(api, operator, passport):
    response = api(operator).get(f"/api/v1/passports/{passport.id}/qr.png")

    assert decoded(response.content) == f"{base_url()}/p/{passport.code}"


def test_the_png_scale_sets_the_pixels_of_a_module(api, operator, passport):
    modules = len(qr_matrix(f"{base_url()}/p/{passport.code}")) + 2 * QUIET_ZONE

    response = api(operator).get(f"/api/v1/passports/{passport.id}/qr.png", {"scale": 3})

    assert Image.open(io.BytesIO(response.content)).size == (3 * modules, 3 * modules)


@pytest.mark.parametrize("scale", ["0", "21", "big", ""])
def test_a_png_scale_outside_1_to_20_is_refused(api, operator, passport, scale):
    response = api(operator).get(f"/api/v1/passports/{passport.id}/qr.png", {"scale": scale})

    assert response.status_code == 400
    assert "scale" in response.json()["details"]


def test_a_passports_label_sheet_opens_and_carries_its_code(api, operator, passport):
    response = api(operator).get(f"/api/v1/passports/{passport.id}/label.pdf", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{passport.code}.pdf"'
    (page,) = pdf_pages(response.content)
    assert passport.code in page and passport.serial_number in page


@pytest.mark.parametrize("file", ["label.pdf", "qr.png", "qr.svg"])
def test_another_organizations_passport_is_not_found(api, operator, foreign_passport, file):
    response = api(operator).get(f"/api/v1/passports/{foreign_passport.id}/{file}")

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize("file", ["label.pdf", "qr.png", "qr.svg"])
def test_a_customer_gets_the_files_of_the_devices_kept_for_them_only(api, operator, manufacturer, customer, file):
    theirs = register(operator, manufacturer, serial_number="C-1", customer_id=customer.id)
    others = register(operator, manufacturer, serial_number="C-2")
    client = api(customer)

    assert client.get(f"/api/v1/passports/{theirs.id}/{file}").status_code == 200
    assert client.get(f"/api/v1/passports/{others.id}/{file}").status_code == 404


def test_labels_of_many_passports_fill_a_sheet_per_21_in_the_order_given(api, operator, manufacturer):
    passports = [register(operator, manufacturer, serial_number=f"L-{n:02d}") for n in range(23)]
    ordered = list(reversed(passports))

    response = api(operator).post(
        "/api/v1/passports/labels", {"passport_ids": [str(p.id) for p in ordered]}, format="json"
    )

    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.content)
    assert len(pages) == math.ceil(23 / 21) == 2
    for page, expected in ((pages[0], ordered[:21]), (pages[1], ordered[21:])):
        printed = sorted((p.code for p in passports if p.code in page), key=page.index)
        assert printed == [p.code for p in expected]


def test_labels_naming_unknown_or_foreign_passports_are_refused_naming_them(api, operator, passport, foreign_passport):
    unknown = uuid.uuid4()

    response = api(operator).post(
        "/api/v1/passports/labels",
        {"passport_ids": [str(passport.id), str(foreign_passport.id), str(unknown)]},
        format="json",
    )

    assert response.status_code == 400
    messages = " ".join(response.json()["details"]["passport_ids"])
    assert str(foreign_passport.id) in messages and str(unknown) in messages
    assert str(passport.id) not in messages


def test_more_labels_than_the_limit_are_refused(api, operator, passport):
    limit = settings.PASSPORTS["LABEL_DOWNLOAD_MAX_PASSPORTS"]

    response = api(operator).post(
        "/api/v1/passports/labels", {"passport_ids": [str(passport.id)] * (limit + 1)}, format="json"
    )

    assert response.status_code == 400
    assert "passport_ids" in response.json()["details"]


def test_qr_and_labels_are_refused_when_the_feature_is_off(api):
    organization = OrganizationFactory()
    operator = member(organization, role=Role.OPERATOR)

    response = api(operator).get(f"/api/v1/passports/{uuid.uuid4()}/qr.svg")

    assert response.status_code == 403
    assert response.json()["error_code"] == "FEATURE_DISABLED"


def test_a_customers_labels_may_name_only_the_devices_kept_for_them(api, operator, manufacturer, customer):
    theirs = register(operator, manufacturer, serial_number="C-1", customer_id=customer.id)
    others = register(operator, manufacturer, serial_number="C-2")
    client = api(customer)

    printed = client.post("/api/v1/passports/labels", {"passport_ids": [str(theirs.id)]}, format="json")
    refused = client.post("/api/v1/passports/labels", {"passport_ids": [str(theirs.id), str(others.id)]}, format="json")

    assert printed.status_code == 200 and theirs.code in pdf_pages(printed.content)[0]
    assert refused.status_code == 400
    assert refused.json()["details"]["passport_ids"] == [f"No passport of yours has the id {others.id}."]
