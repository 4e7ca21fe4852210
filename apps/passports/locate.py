"""Finding a device by what is printed on it, whoever owns it: the one narrow path
(`passports_locate`, a SECURITY DEFINER function of migration 0001) by which a caller sees a
passport that row-level security does not show it. It answers only on an exact code, or GTIN
and serial number; the services that use it (a takeover claim, a public service request, the
public page) show the caller nothing of it beyond what they are for."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db import connection

from apps.passports import codes


@dataclass(frozen=True)
class LocatedPassport:
    passport_id: UUID
    organization_id: UUID
    organization_name: str
    code: str
    serial_number: str
    device_name: str
    status: str


def passport_locate(*, code: str = "", gtin: str = "", serial_number: str = "") -> LocatedPassport | None:
    """The device with this code (or this GTIN-14 and serial number), else None. Reads no more
    than one row; no tenant scope is needed or opened."""
    code = codes.normalized(code)
    if code and not codes.looks_like_code(code):
        return None
    if not code and not (gtin and serial_number):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM passports_locate(%s, %s, %s)", [code, gtin or "", serial_number or ""])
        row = cursor.fetchone()
    if row is None:
        return None
    return LocatedPassport(*row)
