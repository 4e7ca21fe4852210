"""Device passports in the back-office in headless Chromium (passport_admin_check.mjs): platform
staff find a device in the list, open its page with the lifecycle inline and its QR code loaded,
print its label from the list (a PDF comes back) and see the pending claim in the takeover queue;
the admin of another organization sees their own device and not the first organization's. No CSP
violation, console error or failed request on the way. Needs what test_pages_in_chromium.py needs
(`make browser-check`)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.context import tenant_scope
from apps.passports import services
from apps.tenancy.roles import Role
from tests.browser.test_pages_in_chromium import CHROMIUM, HERE, NODE, PASSWORD, REPORTS, _missing, server  # noqa: F401
from tests.factories import OrganizationFactory, UserFactory, member
from tests.passports.conftest import actor_of, register, with_passports

REQUIRED = os.environ.get("MANIFEST_BROWSER_CHECK") == "1"
pytestmark = pytest.mark.skipif(not REQUIRED and _missing() is not None, reason=_missing() or "")


@pytest.fixture
def devices(committed):
    """A manufacturer's motor, inspected and installed, claimed by another organization that has
    a device of its own."""
    maker = with_passports(OrganizationFactory(name="Acme Drives GmbH"))
    other = with_passports(OrganizationFactory(name="Baltic Plant Services"))
    operator, inspector, engineer = (member(maker, role) for role in (Role.OPERATOR, Role.QC_INSPECTOR, Role.ENGINEER))
    motor = register(operator, maker, serial_number="SN-BROWSER-1")
    for user, kind, location in ((inspector, "qc_passed", ""), (engineer, "installed", "Hall 3, line 2")):
        with tenant_scope(maker.id, user_id=user.id):
            services.passport_event_record(
                actor=actor_of(user, maker),
                passport_id=motor.id,
                data=services.LifecycleInput(kind=kind, location=location),
            )
    other_admin = member(other, Role.ORG_ADMIN)
    theirs = register(member(other, Role.OPERATOR), other, serial_number="BPS-BROWSER-1", device_name="Pump")
    with tenant_scope(other.id, user_id=other_admin.id):
        services.takeover_request(
            actor=actor_of(other_admin, other), code=motor.code, serial_number=motor.serial_number
        )
    return motor, theirs, other_admin


def run_check(base: str, *, email: str, totp_key: str = "", **paths: str) -> dict:
    environment = {
        **os.environ,
        "BASE_URL": base,
        "ADMIN_EMAIL": email,
        "ADMIN_PASSWORD": PASSWORD,
        "ADMIN_TOTP_KEY": totp_key,
        "LIST_PATH": reverse("admin:passports_devicepassport_changelist"),
        "CHROMIUM": CHROMIUM,
        "SCREENSHOT": str(REPORTS / f"passport-page-{email}.png"),
        **paths,
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [NODE, str(HERE / "passport_admin_check.mjs")], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.stdout, result.stderr
    (REPORTS / f"passport-admin-{email}.json").write_text(result.stdout)
    return json.loads(result.stdout)


def test_staff_open_a_device_with_its_lifecycle_print_its_label_and_see_the_takeover_queue(server, devices):  # noqa: F811
    assert _missing() is None, _missing()
    motor, theirs, _ = devices
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)

    report = run_check(
        server,
        email=staff.email,
        totp_key=device.key,
        CODES=f"{motor.code},{theirs.code}",
        PASSPORT_PATH=reverse("admin:passports_devicepassport_change", args=[motor.pk]),
        PRINT_CODE=motor.code,
        TAKEOVERS_PATH=reverse("admin:passports_passporttakeover_changelist"),
        TAKEOVER_CODE=motor.code,
    )

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    checks = report["checks"]
    assert checks["moduleShown"] is True
    assert checks["listed"] == {motor.code: 1, theirs.code: 1}
    assert checks["lifecycleKinds"] == ["Manufactured", "QC passed", "Installed"]
    assert checks["qrLoaded"] is True and checks["editableName"] == 0  # staff read the record
    assert checks["labels"]["contentType"] == "application/pdf" and checks["labels"]["head"] == "%PDF-"
    assert checks["labels"]["filename"].startswith("passport-labels-")
    assert checks["takeoversListed"] == 1 and checks["decideActions"] == 2


def test_another_organizations_admin_does_not_see_the_first_organizations_devices(server, devices):  # noqa: F811
    assert _missing() is None, _missing()
    motor, theirs, other_admin = devices

    report = run_check(server, email=other_admin.email, CODES=f"{motor.code},{theirs.code}")

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    checks = report["checks"]
    assert checks["moduleShown"] is True
    assert checks["listed"] == {motor.code: 0, theirs.code: 1}
