"""What a passport's QR code says, and the code drawn (segno).

A device with a GTIN gets a GS1 Digital Link URI, `https://<host>/01/<GTIN-14>/21/<serial>`,
which any GS1-aware scanner (a retailer's, a warehouse's) reads as product and serial; a device
without one gets `https://<host>/p/<code>`. Both resolve to the same public page. The host is
settings.PASSPORTS["PUBLIC_BASE_URL"]: labels outlive deployments, so it is fixed, never taken
from the request.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import segno
from django.conf import settings

# M recovers about 15 % of a damaged or dirty label: equipment labels live on machines.
ERROR_CORRECTION = "m"


def passport_uri(*, code: str, gtin: str = "", serial_number: str = "") -> str:
    base = settings.PASSPORTS["PUBLIC_BASE_URL"]
    if gtin:
        # GS1 Digital Link: the serial (AI 21) percent-encoded, a slash in it included.
        return f"{base}/01/{gtin}/21/{quote(serial_number, safe='')}"
    return f"{base}/p/{code}"


def passport_uri_of(passport) -> str:
    return passport_uri(code=passport.code, gtin=passport.gtin, serial_number=passport.serial_number)


def qr_matrix(uri: str) -> list[bytearray]:
    """The QR code's modules, row by row (1 dark), without the quiet zone."""
    return segno.make(uri, error=ERROR_CORRECTION, micro=False).matrix


def qr_svg(uri: str, *, scale: int = 4) -> bytes:
    out = io.BytesIO()
    segno.make(uri, error=ERROR_CORRECTION, micro=False).save(
        out, kind="svg", scale=scale, border=4, xmldecl=False, svgclass=None, lineclass=None
    )
    return out.getvalue()


def qr_png(uri: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(uri, error=ERROR_CORRECTION, micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
