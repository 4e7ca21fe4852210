"""The public scan's reads: what anyone holding a device may see of it, and what a signed-in
member of its owner sees besides.

The public part is read through the one narrow path, the SECURITY DEFINER function
`passports_public_scan` (migration 0002_public_scan says what it returns and why), never in a
tenant scope and never through the bypass; the same call counts the scan, so a page view is one
database round trip. The owner's part is read in the caller's own tenant scope, under row-level
security, like every other read of the owner's members.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.countries import is_country
from apps.core.errors import NotFound
from apps.passports import codes, selectors
from apps.passports.models import EventKind, PassportStatus, ProductType, ScanChannel

PUBLIC_COLUMNS = (
    "code",
    "device_name",
    "manufacturer",
    "model",
    "product_type",
    "origin_country",
    "status",
    "warranty_until",
    "steps",
)

NOT_FOUND_MESSAGE = "No device has this passport."
GTIN = re.compile(r"^(?:[0-9]{8}|[0-9]{12,14})$")
SERIAL_MAX_LENGTH = 80
MICRO_DEGREE = Decimal("0.000001")

# A failed QC is the maker's business until the device passes (transitions.PRIVATE_KINDS keeps
# the step off the page): the public sees such a device as it was before, manufactured.
PUBLIC_STATUS = {PassportStatus.QC_FAILED: PassportStatus.MANUFACTURED}
PUBLIC_STATUSES = [(value, label) for value, label in PassportStatus.choices if value not in PUBLIC_STATUS]
STATUS_LABELS = dict(PassportStatus.choices)
KIND_LABELS = dict(EventKind.choices)
PRODUCT_TYPE_LABELS = dict(ProductType.choices)


class WarrantyState:
    ACTIVE = "active"
    EXPIRED = "expired"
    NONE = "none"

    choices = [(ACTIVE, "Under warranty"), (EXPIRED, "Warranty expired"), (NONE, "No warranty recorded")]


@dataclass(frozen=True)
class Scan:
    """How the scan is counted: through which link, from which country (the edge's header only),
    at which coordinates (only those the person chose to share), whether signed in. Never the
    address the request came from."""

    channel: str
    country: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    signed_in: bool = False


def scan_country(value: str | None) -> str:
    """The country of the edge's header when it is an ISO 3166-1 alpha-2 code, else ''
    (Cloudflare's XX and T1, garbage, nothing)."""
    text = (value or "").strip().upper()
    return text if is_country(text) else ""


def shared_coordinates(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    """Both coordinates as decimals when both are numbers on the globe, else neither."""
    try:
        lat, lon = Decimal(str(latitude).strip()), Decimal(str(longitude).strip())
        if not (lat.is_finite() and lon.is_finite() and -90 <= lat <= 90 and -180 <= lon <= 180):
            return None, None
        # Six places are a phone's precision; 1E-999999999 would be a numeric PostgreSQL refuses.
        return lat.quantize(MICRO_DEGREE), lon.quantize(MICRO_DEGREE)
    except (ArithmeticError, ValueError, TypeError):
        return None, None


def digital_link_key(gtin: str, serial_number: str) -> tuple[str, str]:
    """A GS1 Digital Link's GTIN as the 14 digits passports store (8, 12, 13 or 14 given; zeros
    in front) and its serial number; ('', '') when either cannot be one (it then matches nothing)."""
    gtin = (gtin or "").strip()
    if not GTIN.match(gtin) or not serial_number or len(serial_number) > SERIAL_MAX_LENGTH:
        return "", ""
    if not serial_number.isprintable():  # NUL and other controls: never a serial, and not storable text
        return "", ""
    return gtin.zfill(14), serial_number


def public_passport_row(
    *, code: str = "", gtin: str = "", serial_number: str = "", scan: Scan | None = None
) -> dict | None:
    """The public columns of the device with this code (or GTIN-14 and serial number), or None;
    counts the scan when `scan` is given. Needs no tenant scope and leaves the caller's as it was."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM passports_public_scan(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                code,
                gtin,
                serial_number,
                settings.PASSPORTS["PUBLIC_STEPS"],
                scan is not None,
                scan.channel if scan else ScanChannel.API,
                scan.country if scan else "",
                scan.latitude if scan else None,
                scan.longitude if scan else None,
                scan.signed_in if scan else False,
            ],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        found = dict(zip([column.name for column in cursor.description], row, strict=True))
    # Django has psycopg hand jsonb over as text (its JSONField decodes it); so do we.
    if isinstance(found["steps"], str):
        found["steps"] = json.loads(found["steps"])
    return found


def _warranty(until: date | None) -> dict:
    if until is None:
        return {"state": WarrantyState.NONE, "until": None}
    active = until >= timezone.now().date()
    return {"state": WarrantyState.ACTIVE if active else WarrantyState.EXPIRED, "until": until}


def public_passport(*, code: str = "", gtin: str = "", serial_number: str = "", scan: Scan | None = None) -> dict:
    """What the public page shows of the device with this code, or with this GTIN and serial
    number (a GS1 Digital Link); NotFound otherwise, the same answer for a malformed, an unknown
    and a mistyped code, and no sooner for a malformed one (it is looked up as '')."""
    if gtin:
        gtin, serial_number = digital_link_key(gtin, serial_number)
        code = ""
    else:
        code = codes.normalized(code)
        code = code if codes.looks_like_code(code) else ""
    row = public_passport_row(code=code, gtin=gtin, serial_number=serial_number, scan=scan)
    if row is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    status = PUBLIC_STATUS.get(row["status"], row["status"])
    return {
        "code": row["code"],
        "device_name": row["device_name"],
        "manufacturer": row["manufacturer"],
        "model": row["model"],
        "product_type": row["product_type"],
        "product_type_label": PRODUCT_TYPE_LABELS.get(row["product_type"], row["product_type"]),
        "origin_country": row["origin_country"],
        "status": status,
        "status_label": STATUS_LABELS.get(status, status),
        "warranty": _warranty(row["warranty_until"]),
        "steps": [
            {
                "kind": step["kind"],
                "label": KIND_LABELS.get(step["kind"], "Step"),
                "date": date.fromisoformat(step["date"]),
            }
            for step in row["steps"]
        ],
    }


def owner_section(*, organization_id: UUID, code: str, customer_id: UUID | None, with_scans: bool) -> dict | None:
    """What a member of the device's owner sees besides the public fields (their organization's
    device, and with an `:own` grant one kept for them); None for anyone else. Read in the
    caller's tenant scope: another organization's device is simply not found."""
    passport = selectors.passport_get_by_code(organization_id=organization_id, code=code, customer_id=customer_id)
    if passport is None:
        return None
    return {
        "passport_id": passport.id,
        "serial_number": passport.serial_number,
        "current_location": passport.current_location,
        "latitude": passport.latitude,
        "longitude": passport.longitude,
        "customer_id": passport.customer_id,
        "scans": selectors.passport_scan_summary(passport=passport) if with_scans else None,
        "url": f"/api/v1/passports/{passport.id}",
    }
