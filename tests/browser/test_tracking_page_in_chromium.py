"""The public tracking page on a phone-sized screen in headless Chromium (tracking_page_check.mjs):
it renders with its route drawn, nothing scrolls sideways, no request leaves 127.0.0.1, and the
Content-Security-Policy holds. Needs what test_pages_in_chromium.py needs (`make browser-check`)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.core.context import tenant_scope
from apps.tracking.models import TrackedShipment, TrackingEvent
from tests.browser.test_pages_in_chromium import CHROMIUM, HERE, NODE, REPORTS, _missing, server  # noqa: F401
from tests.factories import OrganizationFactory
from tests.tracking.live_support import tracked_order_of

REQUIRED = os.environ.get("MANIFEST_BROWSER_CHECK") == "1"
pytestmark = pytest.mark.skipif(not REQUIRED and _missing() is not None, reason=_missing() or "")

ROUTE = [
    {"kind": "pickup", "city": "Hamburg", "country": "DE", "latitude": "53.5432", "longitude": "9.9876"},
    {"kind": "border_crossing", "city": "Frankfurt (Oder)", "country": "DE",
     "latitude": "52.3412", "longitude": "14.5509"},
    {"kind": "delivery", "city": "Warsaw", "country": "PL", "latitude": "52.2296", "longitude": "21.0122"},
]  # fmt: skip


@pytest.fixture
def tracking_number(committed):
    shipper, carrier = OrganizationFactory(), OrganizationFactory()
    now = datetime.now(UTC)
    with tenant_scope(shipper.id):
        shipment = tracked_order_of(shipper, carrier)
        TrackedShipment.objects.filter(pk=shipment.pk).update(
            status="in_transit",
            route=ROUTE,
            last_latitude=Decimal("52.4"),
            last_longitude=Decimal("14.0"),
            last_position_at=now,
            eta_at=now + timedelta(hours=7),
        )
        path = [("53.54", "9.99"), ("53.3", "10.9"), ("52.9", "12.3"), ("52.6", "13.4"), ("52.4", "14.0")]
        for step, (latitude, longitude) in enumerate(path):
            TrackingEvent.objects.create(
                shipment_id=shipment.id,
                client_organization_id=shipper.id,
                supplier_organization_id=carrier.id,
                event_type="location_update",
                source="device",
                occurred_at=now - timedelta(minutes=50 - step * 10),
                received_at=now,
                latitude=Decimal(latitude),
                longitude=Decimal(longitude),
            )
        TrackingEvent.objects.create(
            shipment_id=shipment.id,
            client_organization_id=shipper.id,
            supplier_organization_id=carrier.id,
            event_type="milestone",
            source="device",
            occurred_at=now - timedelta(minutes=49),
            received_at=now,
            metadata={"milestone": "picked_up"},
        )
    return shipment.tracking_number


def test_the_tracking_page_works_on_a_phone(server, tracking_number):  # noqa: F811
    assert _missing() is None, _missing()
    REPORTS.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "PAGE_URL": f"{server}/t/{tracking_number}",
        "NOT_FOUND_URL": f"{server}/t/MF0000000000",
        "CHROMIUM": CHROMIUM,
        "SCREENSHOT": str(REPORTS / "tracking-page-390x844.png"),
    }
    result = subprocess.run(
        [NODE, str(HERE / "tracking_page_check.mjs")], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    (REPORTS / "tracking-page.json").write_text(result.stdout)

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    found, not_found = report["checks"]["found"], report["checks"]["notFound"]
    assert found["status"] == 200 and found["statusLabel"] == "In transit"
    assert report["checks"]["svgVisible"] is True
    assert found["svg"]["width"] > 300 and found["svg"]["height"] > 150  # the route fills the phone's width
    assert found["scrollWidth"] <= found["clientWidth"] == 390
    assert found["milestones"] == 1
    assert not_found["status"] == 404 and "No shipment has this tracking number." in not_found["notFound"]
    assert all(url.startswith(server) or url.startswith("data:") for url in report["requests"])
