"""The admin, the public pages and the API docs work under the Content-Security-Policy, in a real
browser: headless Chromium (Debian's) driven by playwright-core walks them, works their widgets,
and reports every CSP violation, console error and failed request (csp_check.mjs).

Needs /usr/bin/chromium (`apt-get install chromium`), node, and `npm ci` in tests/browser.
`make browser-check` does the npm step and runs this file, and fails without them; `make test`
skips it without them, so it never downloads anything."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from django.core.asgi import get_asgi_application
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.notifications.models import NotificationTemplate
from apps.tenancy.roles import Role
from tests.chat.factories import Side, order_thread, send
from tests.factories import OrganizationFactory, UserFactory, member
from tests.support import free_port

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")
PASSWORD = "correct-horse-battery"
PUBLIC_PATHS = ["/verify/no-such-token", "/api/docs/"]
REPORTS = HERE.parent.parent / "var" / "browser-reports"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if NODE is None:
        return "no node on PATH"
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed: run `make browser-check` (npm ci in tests/browser)"
    return None


# `make browser-check` sets MANIFEST_BROWSER_CHECK: there a missing browser is a failure, not a skip.
REQUIRED = os.environ.get("MANIFEST_BROWSER_CHECK") == "1"
pytestmark = pytest.mark.skipif(not REQUIRED and _missing() is not None, reason=_missing() or "")


@pytest.fixture(autouse=True)
def _browser_present():
    assert _missing() is None, _missing()


@pytest.fixture
def server(committed):
    """The project's HTTP application on a free port, with its static files served (the admin's
    and Swagger UI's CSS and JS): WhiteNoise reads them from the apps, as in `make run`."""
    with override_settings(WHITENOISE_USE_FINDERS=True):
        application = get_asgi_application()  # middleware set up now, with the setting above
    port = free_port()
    uvicorn_server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def organizations():
    alpha = OrganizationFactory(name="Alpha Freight")
    beta = OrganizationFactory(name="Beta Forwarding")
    for organization in (alpha, beta):
        member(organization, Role.SHIPPER)
        member(organization, Role.WAREHOUSE_MANAGER)
    # A conversation about an order between them: the chat pages (their own inline style) have rows.
    shipper, carrier = (
        Side(alpha, member(alpha, Role.SHIPPER), Role.SHIPPER),
        Side(beta, member(beta, Role.CARRIER), Role.CARRIER),
    )
    thread = order_thread(shipper, carrier)
    send(shipper, thread, "When does the truck arrive?")
    send(carrier, thread, "Tomorrow at 9.")
    # A staff template: its change page shows the preview on the type's sample.
    NotificationTemplate.objects.create(
        type="order.status_changed",
        channel="email",
        language="en",
        subject="{{ number }}",
        body="{{ to_status|words }}",
    )
    return alpha, beta


def run_check(base: str, *, email: str, totp_key: str = "") -> dict:
    environment = {
        **os.environ,
        "BASE_URL": base,
        "ADMIN_EMAIL": email,
        "ADMIN_PASSWORD": PASSWORD,
        "ADMIN_TOTP_KEY": totp_key,
        "PUBLIC_PATHS": ",".join(PUBLIC_PATHS),
        "CHROMIUM": CHROMIUM,
    }
    result = subprocess.run(
        [NODE, str(HERE / "csp_check.mjs")], env=environment, capture_output=True, text=True, timeout=540
    )
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    REPORTS.mkdir(parents=True, exist_ok=True)  # the last report of each user, to read after a failure
    (REPORTS / f"{email}.json").write_text(result.stdout)
    report["returncode"] = result.returncode
    return report


def refused(report: dict) -> list[dict]:
    """Server errors, and forms the server refused to take (a CSRF failure is a 403). A page the
    user may not open (403) is the permissions' business, not the policy's."""
    return [
        entry
        for entry in report["visited"]
        if entry["status"] >= 500 or (entry["url"].endswith("(sent)") and entry["status"] >= 400)
    ]


def visited_paths(report: dict) -> list[str]:
    return [entry["url"].split("//", 1)[1].split("/", 1)[1] for entry in report["visited"]]


def test_platform_staff_admin_and_public_pages_work_under_the_policy(server, organizations):
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)

    report = run_check(server, email=staff.email, totp_key=device.key)

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    assert report["returncode"] == 0
    assert refused(report) == []
    assert report["exercised"]["canary"] is True, "the checker must see a violation it provokes"
    paths = visited_paths(report)
    assert "admin/" in paths
    assert "admin/tenancy/organization/" in paths
    assert any(path.startswith("admin/tenancy/organization/") and path.endswith("/change/") for path in paths)
    assert "admin/escrow/posting/" in paths  # the ledger, with its own inline style
    assert "admin/disputes/dispute/" in paths  # the cases (a case's page: test_dispute_pages_in_chromium.py)
    assert "admin/notifications/notificationtemplate/add/" in paths
    assert any(
        path.startswith("admin/notifications/notificationtemplate/") and path.endswith("/change/") for path in paths
    )
    assert "admin/notifications/delivery/" in paths
    assert "admin/webhooks/webhookendpoint/" in paths
    assert any(path.startswith("admin/chat/thread/") and path.endswith("/change/") for path in paths)
    assert "admin/accounts/user/add/" in paths
    assert any(path.endswith("/features/") for path in paths)  # an organization's feature flags
    assert "admin/django_celery_beat/periodictask/add/" in paths  # its script, moved to a file
    assert len(paths) > 40
    assert report["exercised"]["selectFilter"] > 0  # a user's groups and permissions
    assert report["exercised"]["calendar"] > 0 and report["exercised"]["clock"] > 0
    assert report["exercised"]["swaggerOperations"] > 20
    assert report["exercised"]["formsSent"] > 5  # through the CSRF check, SameSite=Strict
    assert "api/docs/" in paths and "verify/no-such-token" in paths


def test_organization_admin_back_office_works_under_the_policy(server, organizations):
    alpha, _ = organizations
    organization_admin = member(alpha, Role.ORG_ADMIN)

    report = run_check(server, email=organization_admin.email)

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    assert report["returncode"] == 0
    assert refused(report) == []
    paths = visited_paths(report)
    assert "admin/" in paths
    assert any(path.startswith("admin/chat/thread/") and path.endswith("/change/") for path in paths)
    assert "admin/disputes/dispute/" in paths  # their organization's cases, read-only
    assert "admin/webhooks/webhookendpoint/" in paths  # their organization's webhook endpoints
    assert not any(path.startswith("admin/notifications/") for path in paths)  # staff's alone
    assert len(paths) > 5
