"""The public page of a device, where its label's QR code leads: /p/<code>, and the GS1 Digital
Link /01/<GTIN-14>/21/<serial> of a device with a GTIN (apps.passports.qr). No login; nothing
beyond the public fields (apps.passports.selectors_public); server-rendered, mobile first, no
script, font or image from anywhere; rate limited per client IP; never indexed.

The page's "Request service" button leads to the form's own page, /p/<code>/service-request
(contact, description, up to five photos), which posts to the same address (CSRF-protected,
multipart): the request lands with the device's owner (services.service_request_submit_public)
and the page answers with its number. The scan page itself renders no form and sets no cookie.

A page view is one rate-limit count in Redis and one database call, which reads the public
fields and counts the scan together; nothing is written to the session.
"""

from __future__ import annotations

import functools
import math

import pycountry
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from apps.core.errors import NotFound, ValidationFailed
from apps.core.throttling import IpRateThrottle
from apps.core.uploads import Upload
from apps.passports import codes, selectors_public, services
from apps.passports.models import PassportStatus, ScanChannel

TEMPLATE = "passports/public.html"
RATE_LIMITED_MESSAGE = "Too many requests from your address: try again shortly."
DECOMMISSIONED_MESSAGE = "This device is decommissioned: its owner no longer services it."
FORM_FIELDS = ("contact_name", "contact_email", "contact_phone", "description")
UNSTORABLE_MESSAGE = "Null characters are not allowed."


class PassportScanIpThrottle(IpRateThrottle):
    """Public passport pages and GET /api/v1/scan/{code}, per client IP."""

    scope = "passport_scan_ip"


class PassportServiceRequestIpThrottle(IpRateThrottle):
    """Public service requests (the page's form and its JSON twin), per client IP."""

    scope = "passport_service_request_ip"


def retry_after(throttle: IpRateThrottle) -> str:
    return str(max(1, math.ceil(throttle.wait() or 1)))


@functools.lru_cache(maxsize=300)
def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return getattr(country, "common_name", None) or getattr(country, "name", code)


def scan_of(request, channel: str) -> selectors_public.Scan:
    """How this request's scan is counted: the country only from the edge's header named by
    PASSPORTS["SCAN_COUNTRY_HEADER"], coordinates only when the person sent both (`lat`, `lon`)."""
    header = settings.PASSPORTS["SCAN_COUNTRY_HEADER"]
    latitude, longitude = (None, None)
    if "lat" in request.GET and "lon" in request.GET:
        latitude, longitude = selectors_public.shared_coordinates(request.GET["lat"], request.GET["lon"])
    return selectors_public.Scan(
        channel=channel,
        country=selectors_public.scan_country(request.headers.get(header)) if header else "",
        latitude=latitude,
        longitude=longitude,
        signed_in=request.user.is_authenticated,
    )


def _finish(response):
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "no-store"  # the status changes; a shared cache must not keep it
    return response


def _missing(request, message: str, status: int, headers: dict | None = None):
    response = render(request, TEMPLATE, {"found": False, "message": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return _finish(response)


def _page(request, passport: dict, *, status: int = 200, **context):
    context = {
        "found": True,
        "passport": passport,
        "origin_country_name": country_name(passport["origin_country"]),
        "decommissioned": passport["status"] == PassportStatus.DECOMMISSIONED,
        "max_photos": settings.PASSPORTS["SERVICE_REQUEST_MAX_PHOTOS"],
        "submitted": None,
        # The scan page links to the form (its own page): a label's scan renders no form and
        # sets no CSRF cookie, which keeps the page as light as the benchmark's goal asks.
        "show_form": False,
        # Every key present: a missing one costs the template engine a dir() per lookup.
        "form": dict.fromkeys(FORM_FIELDS, ""),
        "errors": {name: () for name in (*FORM_FIELDS, "photos", "form")},
        **context,
    }
    return _finish(render(request, TEMPLATE, context, status=status))


def _scan_page(request, *, channel: str, code: str = "", gtin: str = "", serial_number: str = ""):
    throttle = PassportScanIpThrottle()
    if not throttle.allow_request(request, None):
        return _missing(request, RATE_LIMITED_MESSAGE, 429, {"Retry-After": retry_after(throttle)})
    # A HEAD (a link checker, a preview bot) is answered but not counted as a scan.
    scan = scan_of(request, channel) if request.method == "GET" else None
    try:
        passport = selectors_public.public_passport(code=code, gtin=gtin, serial_number=serial_number, scan=scan)
    except NotFound as error:
        return _missing(request, error.message, 404)
    return _page(request, passport)


@require_safe
def passport_page(request, code: str):
    return _scan_page(request, channel=ScanChannel.CODE, code=code)


@require_safe
def passport_digital_link_page(request, gtin: str, serial_number: str):
    return _scan_page(request, channel=ScanChannel.DIGITAL_LINK, gtin=gtin, serial_number=serial_number)


def _form_errors(details: dict) -> dict[str, list[str]]:
    """The service's errors by the form's fields (any other under the form's own)."""
    errors: dict[str, list[str]] = {}
    for field, messages in (details or {}).items():
        name = field if field in (*FORM_FIELDS, "photos") else "form"
        errors.setdefault(name, []).extend(str(message) for message in messages)
    return errors


@require_safe
def service_request_form_page(request, code: str):
    """The "Request service" form of a device (GET): its public page with the form, no scan
    counted (the scan that led here was)."""
    throttle = PassportScanIpThrottle()
    if not throttle.allow_request(request, None):
        return _missing(request, RATE_LIMITED_MESSAGE, 429, {"Retry-After": retry_after(throttle)})
    try:
        passport = selectors_public.public_passport(code=codes.normalized(code))
    except NotFound as error:
        return _missing(request, error.message, 404)
    return _page(request, passport, show_form=True)


def service_request_form(request, code: str):
    """GET: the form; POST: the request (below)."""
    if request.method == "POST":
        return service_request_submit(request, code)
    return service_request_form_page(request, code)


@require_POST
def service_request_submit(request, code: str):
    """The page's "Request service" form: the confirmation with the request's number, or the
    page again with each error next to its field (and nothing written)."""
    throttle = PassportServiceRequestIpThrottle()
    if not throttle.allow_request(request, None):
        return _missing(request, RATE_LIMITED_MESSAGE, 429, {"Retry-After": retry_after(throttle)})
    code = codes.normalized(code)
    form = {name: request.POST.get(name, "") for name in FORM_FIELDS}
    # PostgreSQL stores no NUL: refused here as the API's fields refuse it, before the service.
    unstorable = {name: [UNSTORABLE_MESSAGE] for name, value in form.items() if "\x00" in value}
    form = {name: value.replace("\x00", "") for name, value in form.items()}
    photos = tuple(
        Upload(name=photo.name or "", data=photo.read(), content_type=photo.content_type)
        for photo in request.FILES.getlist("photos")
    )
    try:
        if unstorable:
            raise ValidationFailed("The service request has invalid fields.", details=unstorable)
        service_request = services.service_request_submit_public(
            code=code, data=services.ServiceRequestInput(**form, photos=photos)
        )
    except NotFound as error:
        return _missing(request, error.message, 404)
    except ValidationFailed as error:
        try:
            passport = selectors_public.public_passport(code=code)
        except NotFound as missing:
            return _missing(request, missing.message, 404)
        if "passport" in error.details:
            errors = {"form": [DECOMMISSIONED_MESSAGE]}
        else:
            errors = _form_errors(error.details) or {"form": [error.message]}
        errors = {name: errors.get(name, ()) for name in (*FORM_FIELDS, "photos", "form")}
        return _page(request, passport, status=400, form=form, errors=errors, show_form=True)
    context = {
        "found": True,
        "submitted": {"number": service_request.number, "device_name": service_request.passport.device_name},
        "passport": {"code": service_request.passport_code},
    }
    return _finish(render(request, TEMPLATE, context))
