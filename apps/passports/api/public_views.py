"""The public scan API: `GET /api/v1/scan/{code}` (what the public page shows, as JSON) and
`POST /api/v1/scan/{code}/service-requests` (the page's "Request service" form, as JSON or
multipart). No login needed, rate limited per client IP, and no tenant: the public fields come
through the one narrow path (apps.passports.selectors_public).

A signed-in member of the device's owner (bearer token) gets an `owner` section besides, by
role: their organization must have the device (a customer's `:own` grant: one kept for them)
and the device_passports feature on. TenantMiddleware has already put the request in the
caller's organization (the only one, or the one X-Organization-ID names), so that section is
read under row-level security like any of the owner's reads; a member of any other
organization, like an anonymous caller, gets exactly the public body.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fields import StrictCharField
from apps.core.parsers import StrictJSONParser, StrictMultiPartParser
from apps.core.uploads import Upload
from apps.passports import codes, selectors_public, services
from apps.passports.models import EventKind, ProductType, ScanChannel
from apps.passports.public import PassportScanIpThrottle, PassportServiceRequestIpThrottle, scan_of
from apps.tenancy.roles import Grant, grant_for
from apps.tenancy.selectors import feature_is_active

NOT_FOUND = OpenApiResponse(description="NOT_FOUND: no device has this passport code (or it is malformed)")
RATE_LIMITED = OpenApiResponse(description="RATE_LIMIT_EXCEEDED, with Retry-After")
CODE_PARAMETER = OpenApiParameter(
    "code", str, OpenApiParameter.PATH, description="The passport code, e.g. ACM-2612-MO-DE-000042-15"
)


class PublicStepOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EventKind.choices)
    label = StrictCharField()
    date = serializers.DateField(help_text="The UTC date of the step (no time, no place).")


class PublicWarrantyOutput(serializers.Serializer):
    state = serializers.ChoiceField(choices=selectors_public.WarrantyState.choices)
    until = serializers.DateField(allow_null=True)


class PublicScanSummaryOutput(serializers.Serializer):
    total = serializers.IntegerField(help_text="Public scans since the current owner has the device.")
    last_at = serializers.DateTimeField(allow_null=True)


class PublicScanOwnerOutput(serializers.Serializer):
    passport_id = serializers.UUIDField()
    serial_number = StrictCharField()
    current_location = StrictCharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    customer_id = serializers.UUIDField(allow_null=True)
    scans = PublicScanSummaryOutput(allow_null=True, help_text="Null for a customer (an `:own` grant).")
    url = StrictCharField(help_text="The full record: GET /api/v1/passports/{id}.")


class PublicPassportOutput(serializers.Serializer):
    code = StrictCharField()
    device_name = StrictCharField()
    manufacturer = StrictCharField()
    model = StrictCharField()
    product_type = serializers.ChoiceField(choices=ProductType.choices)
    product_type_label = StrictCharField()
    origin_country = StrictCharField(help_text="ISO 3166-1 alpha-2 country of manufacture.")
    status = serializers.ChoiceField(
        choices=selectors_public.PUBLIC_STATUSES,
        help_text="A device that failed QC shows as manufactured until it passes.",
    )
    status_label = StrictCharField()
    warranty = PublicWarrantyOutput()
    steps = PublicStepOutput(many=True, help_text="The last public lifecycle steps, newest first.")
    owner = PublicScanOwnerOutput(
        required=False,
        help_text="Only for a signed-in member of the device's owner (a customer: for a device kept for them).",
    )


class PublicScanQuery(serializers.Serializer):
    """Coordinates the person chose to share (both or neither); stored rounded to 0.1°."""

    lat = serializers.DecimalField(max_digits=22, decimal_places=18, min_value=-90, max_value=90, required=False)
    lon = serializers.DecimalField(max_digits=22, decimal_places=18, min_value=-180, max_value=180, required=False)

    def validate(self, attrs):
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError({"lat" if "lat" not in attrs else "lon": ["Give both lat and lon."]})
        return attrs


class PublicServiceRequestInput(serializers.Serializer):
    contact_name = StrictCharField(max_length=200)
    contact_email = StrictCharField(max_length=254, required=False, allow_blank=True, default="")
    contact_phone = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
    description = StrictCharField(max_length=4000)
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="Up to 5 JPEG or PNG photos (multipart only).",
    )


class PublicServiceRequestOutput(serializers.Serializer):
    number = StrictCharField()
    status = StrictCharField(help_text="open on creation.")


def _owner_section(request, code: str) -> dict | None:
    """The owner's view of the device for a signed-in member with `passport:read`, else None."""
    membership = getattr(request._request, "membership", None)
    if not request.user.is_authenticated or membership is None:
        return None
    grant = grant_for(membership.role, membership.extra_permissions, "passport:read")
    if grant is Grant.NONE:
        return None
    if not feature_is_active(organization_id=membership.organization_id, name="device_passports"):
        return None
    return selectors_public.owner_section(
        organization_id=membership.organization_id,
        code=code,
        customer_id=request.user.id if grant is Grant.OWN else None,
        with_scans=grant is Grant.ALL,
    )


class ScanView(APIView):
    """What anyone scanning the device's label may see of it."""

    permission_classes = [AllowAny]
    throttle_classes = [PassportScanIpThrottle]

    @extend_schema(
        parameters=[CODE_PARAMETER, PublicScanQuery],
        responses={200: PublicPassportOutput, 400: OpenApiResponse(description="lat/lon"), 404: NOT_FOUND,
                   429: RATE_LIMITED},
        summary="A device's public passport (counts a scan); its owner's members see more",
    )  # fmt: skip
    def get(self, request, code: str):
        query = PublicScanQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = selectors_public.public_passport(code=code, scan=scan_of(request._request, ScanChannel.API))
        owner = _owner_section(request, body["code"])
        if owner is not None:
            body["owner"] = owner
        return Response(PublicPassportOutput(body).data)


class ScanServiceRequestView(APIView):
    """Anyone asks the device's owner for service (the public page's form)."""

    permission_classes = [AllowAny]
    throttle_classes = [PassportServiceRequestIpThrottle]
    parser_classes = [StrictJSONParser, StrictMultiPartParser]

    # No Idempotency-Key: its records belong to a signed-in user, and this caller has none.
    @extend_schema(
        parameters=[CODE_PARAMETER],
        request={"application/json": PublicServiceRequestInput, "multipart/form-data": PublicServiceRequestInput},
        responses={
            201: PublicServiceRequestOutput,
            400: OpenApiResponse(description="Invalid or missing fields, a file that is not a photo, or a "
                                 "decommissioned device (details.passport)"),
            404: NOT_FOUND,
            429: RATE_LIMITED,
        },
        summary="Ask the device's owner for service (contact, description, up to 5 photos)",
    )  # fmt: skip
    def post(self, request, code: str):
        data = PublicServiceRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        photos = tuple(
            Upload(name=photo.name or "", data=photo.read(), content_type=photo.content_type)
            for photo in fields.pop("photos")
        )
        service_request = services.service_request_submit_public(
            code=codes.normalized(code), data=services.ServiceRequestInput(**fields, photos=photos)
        )
        return Response(PublicServiceRequestOutput(service_request).data, status=201)
