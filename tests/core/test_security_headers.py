"""Security headers on every response (issue 13 item 13): a Content-Security-Policy that allows
no inline or foreign script, a Permissions-Policy that denies the powerful browser features the
platform never uses, and Referrer-Policy strict-origin-when-cross-origin (seed 001 D10).

That the admin, the public pages and the API docs *work* under the policy is checked in a real
browser: tests/browser/ (`make browser-check`)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories import member

pytestmark = pytest.mark.django_db

HTML_PAGES = ["/admin/login/", "/verify/no-such-token", "/api/docs/"]
# HTML and JSON, signed in or not, found or not, GET and POST.
EVERY_KIND_OF_RESPONSE = [
    ("get", "/admin/login/"),
    ("get", "/verify/no-such-token"),
    ("get", "/api/docs/"),
    ("get", "/api/schema/"),
    ("get", "/health"),
    ("get", "/api/v1/me"),
    ("post", "/api/v1/auth/login"),
    ("get", "/no/such/path"),
]


def directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_allow_only_our_own_script(path):
    response = Client().get(path)

    assert response.status_code in (200, 404)
    assert response["Content-Type"].startswith("text/html")
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    # No inline script, no eval, no other origin (a nonce is allowed: it is per response).
    assert [source for source in policy["script-src"] if not source.startswith("'nonce-")] == ["'self'"]
    # Inline <style> elements only with the response's nonce.
    assert "'unsafe-inline'" not in policy["style-src-elem"]


def test_inline_style_of_the_public_verification_page_carries_the_nonce_of_its_header():
    response = Client().get("/verify/no-such-token")

    nonces = re.findall(r'<style nonce="([^"]+)">', response.content.decode())
    assert len(nonces) == 1
    assert f"'nonce-{nonces[0]}'" in directives(response)["style-src-elem"]
    # A fresh nonce for every response.
    assert (
        Client().get("/verify/no-such-token").headers["Content-Security-Policy"]
        != response.headers["Content-Security-Policy"]
    )


def test_api_docs_load_swagger_ui_from_our_own_static_files_without_inline_script():
    page = Client().get("/api/docs/")

    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
    assert scripts, "Swagger UI needs its scripts"
    for attributes, body in scripts:
        assert body.strip() == "", "inline script is refused by the policy"
        source = re.search(r'src="([^"]+)"', attributes).group(1)
        assert source.startswith("/"), f"{source} is not served by us"
    assert "cdn.jsdelivr.net" not in html
    init_script = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', html).group(1)
    script = Client().get(init_script.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


@pytest.mark.parametrize(("method", "path"), EVERY_KIND_OF_RESPONSE)
def test_every_response_sends_referrer_and_permissions_policies(method, path):
    response = getattr(Client(), method)(path)

    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    features = dict(item.split("=", 1) for item in response["Permissions-Policy"].split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "bluetooth", "hid"):
        assert features[feature] == "()", feature
    assert "Content-Security-Policy" in response


def test_signed_in_api_responses_carry_the_headers_too(api):
    user = member()

    response = api(user).get("/api/v1/me")

    assert response.status_code == 200
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert directives(response)["frame-ancestors"] == ["'none'"]
