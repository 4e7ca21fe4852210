"""A device's public passport page on a phone-sized screen in headless Chromium
(passport_scan_page_check.mjs): it renders with nothing scrolling sideways and shows the device's
name, status, warranty and latest steps; "Request service" opens the form, and sending it (with a
photo) shows the request's number; no request leaves 127.0.0.1 and the Content-Security-Policy
holds. Needs what test_pages_in_chromium.py needs (`make browser-check`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image

from apps.core.context import tenant_scope
from apps.passports import services
from apps.passports.models import PassportAttachment, PassportServiceRequest
from apps.tenancy.roles import Role
from tests.browser.test_pages_in_chromium import CHROMIUM, HERE, NODE, REPORTS, _missing, server  # noqa: F401
from tests.factories import OrganizationFactory, member
from tests.passports.conftest import actor_of, register, with_passports

REQUIRED = os.environ.get("MANIFEST_BROWSER_CHECK") == "1"
pytestmark = pytest.mark.skipif(not REQUIRED and _missing() is not None, reason=_missing() or "")
# Where the screenshots go (to look at them after a run).
SCREENSHOT_DIR = os.environ.get("PASSPORT_SCREENSHOT_DIR", str(REPORTS))


@pytest.fixture
def device(committed):
    """An installed motor under warranty, with four public steps, and its owner."""
    owner = with_passports(OrganizationFactory(name="Acme Drives GmbH"))
    operator, engineer = member(owner, Role.OPERATOR), member(owner, Role.ENGINEER)
    inspector = member(owner, Role.QC_INSPECTOR)
    passport = register(
        operator,
        owner,
        device_name="Servo motor 7.5 kW",
        warranty_until=date(2031, 3, 3),
        manufactured_at=datetime(2026, 1, 10, 9, tzinfo=UTC),
    )
    for user, kind, day in ((inspector, "qc_passed", 1), (operator, "shipped", 2), (engineer, "installed", 3)):
        with tenant_scope(owner.id, user_id=user.id):
            services.passport_status_change(
                actor=actor_of(user, owner),
                passport_id=passport.id,
                status=kind,
                occurred_at=datetime(2026, day, 20 if day == 1 else 1, 9, tzinfo=UTC),
            )
    return owner, passport


def test_the_passport_page_works_on_a_phone(server, device, tmp_path):  # noqa: F811
    assert _missing() is None, _missing()
    owner, passport = device
    Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "motor.png"
    Image.new("RGB", (60, 40), "peru").save(photo, format="PNG")
    environment = {
        **os.environ,
        "PAGE_URL": f"{server}/p/{passport.code}",
        "NOT_FOUND_URL": f"{server}/p/ACM-2612-MO-DE-000042-37",
        "PHOTO": str(photo),
        "CHROMIUM": CHROMIUM,
        "SCREENSHOT_DIR": SCREENSHOT_DIR,
    }
    result = subprocess.run(
        [NODE, str(HERE / "passport_scan_page_check.mjs")], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "passport-scan-page.json").write_text(result.stdout)

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    page, form, sent, not_found = (report["checks"][name] for name in ("page", "form", "sent", "notFound"))
    assert page["status"] == 200 and page["scrollWidth"] <= page["clientWidth"] == 390
    assert page["deviceName"] == "Servo motor 7.5 kW"
    assert page["statusLabel"] == "Installed" and page["warranty"] == "Under warranty until 3 Mar 2031"
    assert page["steps"] == [
        "Installed 1 Mar 2026",
        "Shipped 1 Feb 2026",
        "QC passed 20 Jan 2026",
        "Manufactured 10 Jan 2026",
    ]
    assert page["formVisible"] is False and form["formVisible"] is True  # the button leads to the form
    assert sent["status"] == 200 and re.fullmatch(r"SRQ-\d{4}-\d{6}", sent["requestNumber"])
    assert not_found["status"] == 404 and not_found["notFound"] == "No device has this passport."
    assert all(url.startswith(server) or url.startswith("data:") for url in report["requests"])
    with tenant_scope(owner.id):
        (request,) = PassportServiceRequest.objects.all()
        assert request.number == sent["requestNumber"] and request.contact_name == "Olga Smirnova"
        assert PassportAttachment.objects.filter(service_request=request).count() == 1
