"""A dispute's back-office pages in headless Chromium (dispute_page_check.mjs): platform staff open
the list and a seeded case's mediation page, see each side's evidence side by side with its
preview loaded and the action forms; the client's organization admin sees the same case with no
form. No CSP violation, console error or failed request on the way. Needs what
test_pages_in_chromium.py needs (`make browser-check`)."""

from __future__ import annotations

import io
import json
import os
import subprocess

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from apps.core.context import tenant_scope
from apps.core.uploads import Upload
from apps.disputes import services
from apps.tenancy.roles import Role
from tests.browser.test_pages_in_chromium import CHROMIUM, HERE, NODE, PASSWORD, REPORTS, _missing, server  # noqa: F401
from tests.escrow.parties import make_party, order_between
from tests.factories import UserFactory

REQUIRED = os.environ.get("MANIFEST_BROWSER_CHECK") == "1"
pytestmark = pytest.mark.skipif(not REQUIRED and _missing() is not None, reason=_missing() or "")


def _file(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600) if kind == "JPEG" else (595, 842), "peru").save(buffer, format=kind)
    return buffer.getvalue()


@pytest.fixture
def seeded_case(committed):
    """A case with a photo from the client and a signed CMR from the supplier, previews drawn
    (what the worker does on commit, done here in process)."""
    client, supplier = make_party("Baltic Shippers", Role.SHIPPER), make_party("Volga Carriers", Role.CARRIER)
    order = order_between(client, supplier)
    files = []
    with tenant_scope(client.org.id, user_id=client.staff.id):
        dispute = services.dispute_open(
            actor=client.actor(),
            data=services.DisputeInput(
                order_id=order.id,
                reason_category="damaged",
                description="Pallet 2 of 6 arrived crushed.",
                outcome_requested="partial_refund",
            ),
        )
        files.append(
            services.evidence_add(
                actor=client.actor(),
                dispute_id=dispute.id,
                statement="Photo at unloading.",
                upload=Upload("unloading.jpg", _file("JPEG"), "image/jpeg"),
            )
        )
    with tenant_scope(supplier.org.id, user_id=supplier.staff.id):
        files.append(
            services.evidence_add(
                actor=supplier.actor(),
                dispute_id=dispute.id,
                statement="Signed without reservations.",
                upload=Upload("cmr.pdf", _file("PDF"), "application/pdf"),
            )
        )
    with tenant_scope(client.org.id):
        for evidence in files:
            assert services.evidence_preview_render(evidence_id=evidence.id).preview_status == "ready"
    return dispute, client


def run_check(base: str, dispute, *, email: str, totp_key: str = "") -> dict:
    environment = {
        **os.environ,
        "BASE_URL": base,
        "ADMIN_EMAIL": email,
        "ADMIN_PASSWORD": PASSWORD,
        "ADMIN_TOTP_KEY": totp_key,
        "LIST_PATH": reverse("admin:disputes_dispute_changelist"),
        "CASE_PATH": reverse("admin:disputes_dispute_change", args=[dispute.pk]),
        "CASE_NUMBER": dispute.number,
        "CHROMIUM": CHROMIUM,
        "SCREENSHOT": str(REPORTS / f"dispute-page-{email}.png"),
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [NODE, str(HERE / "dispute_page_check.mjs")], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.stdout, result.stderr
    (REPORTS / f"dispute-page-{email}.json").write_text(result.stdout)
    return json.loads(result.stdout)


def test_staff_mediate_a_case_with_its_evidence_side_by_side(server, seeded_case):  # noqa: F811
    assert _missing() is None, _missing()
    dispute, _ = seeded_case
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)

    report = run_check(server, dispute, email=staff.email, totp_key=device.key)

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    checks = report["checks"]
    assert checks["listed"] == 1 and checks["caseShown"] is True
    assert checks["clientEvidence"] == 1 and checks["supplierEvidence"] == 1 and checks["sideBySide"] is True
    assert len(checks["previews"]) == 2 and all(preview["loaded"] for preview in checks["previews"])
    assert checks["downloads"] == 2
    assert checks["actionForms"] == 5


def test_the_clients_organization_admin_reads_the_case_without_forms(server, seeded_case):  # noqa: F811
    assert _missing() is None, _missing()
    dispute, client = seeded_case

    report = run_check(server, dispute, email=client.admin.email)

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    checks = report["checks"]
    assert checks["listed"] == 1 and checks["caseShown"] is True
    assert checks["clientEvidence"] == 1 and checks["supplierEvidence"] == 1
    assert len(checks["previews"]) == 2 and all(preview["loaded"] for preview in checks["previews"])
    assert checks["actionForms"] == 0
