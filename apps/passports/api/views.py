"""Device passports API for members of the owner: the organization's devices, their lifecycle
and files, takeover claims between organizations, service requests, and the code check.

Roles (apps/tenancy/roles.py): operators hold passport:* and service_request:*; QC inspectors
record QC, engineers installation and service (the lifecycle service checks the step's own
permission, transitions.PERMISSION_OF_KIND, so the views that record steps need only
passport:read at the door); customers read the devices kept for them (passport:read:own) and
ask for service on them. Platform staff who are no member of an organization decide a takeover
when the owner is gone (as disputes' mediators do: Actor.staff in the audited all-tenants scope).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.downloads import OpenedFile, SignedFileView
from apps.core.api.filtering import filter_queryset, query_params
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import StreamPagination, paginated_response
from apps.core.parsers import StrictJSONParser, StrictMultiPartParser
from apps.core.throttling import ApiIpRateThrottle, ApiUserRateThrottle
from apps.core.uploads import EXTENSIONS_BY_CONTENT_TYPE, Upload
from apps.passports import codes, selectors, services
from apps.passports.api import serializers as s
from apps.passports.api.filters import PassportFilter
from apps.tenancy.api.base import OrganizationEndpoint, StaffActingEndpoint

FEATURE = "device_passports"
# The detail shows this many of the device's last steps (the events list has them all).
LAST_EVENTS = 5

NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such device passport in your organization")
ILLEGAL_MOVE = OpenApiResponse(
    description="INVALID_STATE_TRANSITION: the lifecycle does not allow this step from the device's status"
)
NOT_YOUR_ROLE = OpenApiResponse(description="RBAC_PERMISSION_DENIED: your role does not record this kind of step")
TAKEOVER_NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such takeover request of your organization")


class PassportView(OrganizationEndpoint):
    """Acts for the owner of the devices; a customer's `:own` grant narrows them to theirs."""

    required_feature = FEATURE

    def context(self) -> dict:
        return {"organization_id": self.organization_id}

    def passport(self, passport_id):
        return selectors.passport_get(
            organization_id=self.organization_id, passport_id=passport_id, customer_id=self.own_customer_id()
        )

    def detail_body(self, passport) -> dict:
        events = list(selectors.passport_events(passport=passport).reverse()[:LAST_EVENTS])
        context = {
            **self.context(),
            "scans": selectors.passport_scan_summary(passport=passport),
            "attachments": selectors.passport_attachments(passport=passport),
            "last_events": events[::-1],
        }
        return s.PassportDetailOutput(passport, context=context).data


class PassportListView(PassportView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "passport:read", "POST": "passport:create"}
    # For the schema: the filters of GET /passports.
    filterset_class = PassportFilter

    @extend_schema(
        filters=True,
        responses=s.PassportOutput(many=True),
        summary="The organization's device passports, newest first (a customer: the devices kept for them)",
    )
    def get(self, request):
        passports = selectors.passport_list(organization_id=self.organization_id, customer_id=self.own_customer_id())
        return paginated_response(self, filter_queryset(PassportFilter, request, passports), s.PassportOutput)

    @extend_schema(
        request=s.PassportCreateInput,
        responses={
            201: s.PassportDetailOutput,
            400: OpenApiResponse(description="Invalid fields, or the device already has a passport"),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Register a device: its code is issued now, and its first step is `manufactured`",
    )
    @idempotent
    def post(self, request):
        data = s.PassportCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        passport = services.passport_register(actor=self.actor(), data=services.PassportInput(**data.validated_data))
        return Response(self.detail_body(passport), status=201)


class PassportDetailView(PassportView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "passport:read", "PATCH": "passport:update"}

    @extend_schema(
        responses={200: s.PassportDetailOutput, 404: NOT_YOURS},
        summary="A device passport with its code parts, QR link, scans, files and last steps",
    )
    def get(self, request, passport_id):
        return Response(self.detail_body(self.passport(passport_id)))

    @extend_schema(
        request=s.PassportUpdateInput,
        responses={200: s.PassportDetailOutput, 404: NOT_YOURS},
        summary="Correct the device's record (the code and what it encodes never change)",
    )
    def patch(self, request, passport_id):
        data = s.PassportUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        passport = services.passport_update(actor=self.actor(), passport_id=passport_id, data=data.validated_data)
        return Response(self.detail_body(passport))


class PassportStatusView(PassportView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"PATCH": "passport:read"}  # the step itself names the permission it needs

    @extend_schema(
        request=s.PassportStatusInput,
        responses={200: s.PassportDetailOutput, 403: NOT_YOUR_ROLE, 404: NOT_YOURS, 422: ILLEGAL_MOVE},
        summary="Move the device to a status by recording the step that leads there",
    )
    def patch(self, request, passport_id):
        data = s.PassportStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.passport_status_change(actor=self.actor(), passport_id=passport_id, **data.validated_data)
        return Response(self.detail_body(self.passport(passport_id)))


class EventStreamPagination(StreamPagination):
    """The device's history in the order it happened, oldest first."""

    ordering = ("occurred_at", "at", "id")


class PassportEventListView(PassportView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "passport:read", "POST": "passport:read"}  # POST: the step's own, below
    pagination_class = EventStreamPagination  # for the schema: the cursor and limit parameters, the envelope

    @extend_schema(
        responses={200: s.PassportEventOutput(many=True), 404: NOT_YOURS},
        summary="The device's lifecycle, oldest first (a cursor stream: the history is append-only)",
    )
    def get(self, request, passport_id):
        events = selectors.passport_events(passport=self.passport(passport_id))
        paginator = EventStreamPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(s.PassportEventOutput(page, many=True, context=self.context()).data)

    @extend_schema(
        request=s.PassportEventInput,
        responses={201: s.PassportEventOutput, 403: NOT_YOUR_ROLE, 404: NOT_YOURS, 422: ILLEGAL_MOVE},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Record a step of the device's life (QC, shipping, receipt, installation, service, decommissioning)",
    )
    @idempotent
    def post(self, request, passport_id):
        data = s.PassportEventInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.passport_event_record(
            actor=self.actor(), passport_id=passport_id, data=services.LifecycleInput(**data.validated_data)
        )
        return Response(s.PassportEventOutput(event, context=self.context()).data, status=201)


class PassportAttachmentView(PassportView):
    parser_classes = [StrictMultiPartParser]
    required_permissions = {"POST": "passport:read"}  # the service checks who may attach what

    @extend_schema(
        request={"multipart/form-data": s.PassportAttachmentInput},
        responses={201: s.PassportAttachmentOutput, 403: NOT_YOUR_ROLE, 404: NOT_YOURS},
        summary="Attach a document or photo to the device (operators) or to one of its steps (who records it)",
    )
    def post(self, request, passport_id):
        data = s.PassportAttachmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        file = data.validated_data["file"]
        attachment = services.passport_attachment_add(
            actor=self.actor(),
            passport_id=passport_id,
            upload=Upload(name=file.name or "", data=file.read(), content_type=file.content_type),
            kind=data.validated_data["kind"],
            event_id=data.validated_data["event_id"],
        )
        return Response(s.PassportAttachmentOutput(attachment).data, status=201)


@extend_schema_view(
    get=extend_schema(
        responses={(200, kind): bytes for kind in EXTENSIONS_BY_CONTENT_TYPE},
        summary="Download a device passport's document or photo",
    )
)
class AttachmentFileView(SignedFileView):
    salt = s.DOWNLOAD_SALT

    def max_age(self) -> int:
        return s.download_max_age()

    def open_file(self, *, record_id, organization_id) -> OpenedFile:
        attachment = selectors.attachment_get(organization_id=organization_id, attachment_id=record_id)
        return OpenedFile(attachment.file.open("rb"), attachment.filename, attachment.content_type)


# --- Takeovers ---------------------------------------------------------------------------------


class TakeoverView(PassportView, StaffActingEndpoint):
    """Either side of a claim acts for its organization (`passport:manage`); platform staff who
    are no member of one read the pending claims and decide one when the owner is gone."""

    # (The docstring is the operations' description in the schema.) Staff act through
    # StaffActingEndpoint: Actor.staff in the audited all-tenants scope, `staff_methods` only.
    parser_classes = [StrictJSONParser]
    staff_methods = frozenset()
    staff_refusal = "Platform staff read and decide claims; the organizations do the rest."
    staff_scope_reason = "passport takeover"

    def context(self) -> dict:
        return {"organization_id": None if self.acting_as_staff() else self.organization_id}


class TakeoverListView(TakeoverView):
    required_permissions = {"GET": "passport:manage", "POST": "passport:manage"}
    staff_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        parameters=[s.PassportTakeoverListQuery],
        responses=s.PassportTakeoverOutput(many=True),
        summary="Claims on your devices (incoming) and your claims (outgoing), newest first; "
        "platform staff: every pending claim, oldest first",
    )
    def get(self, request):
        direction = query_params(s.PassportTakeoverListQuery, request).get("direction", "")
        if self.acting_as_staff():
            with self.scope():
                return paginated_response(self, selectors.takeover_staff_queue(), s.PassportTakeoverOutput)
        takeovers = selectors.takeover_list(organization_id=self.organization_id, direction=direction)
        return paginated_response(self, takeovers, s.PassportTakeoverOutput, context=self.context())

    @extend_schema(
        request=s.PassportTakeoverRequestInput,
        responses={
            201: s.PassportTakeoverOutput,
            404: OpenApiResponse(description="NOT_FOUND: no device has this code and serial number"),
            422: OpenApiResponse(
                description="VALIDATION_CONSTRAINT_VIOLATION: the device is already yours, or you have a pending "
                "claim on it; INVALID_STATE_TRANSITION: the device is decommissioned"
            ),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Claim a device you hold, with the code and serial number printed on it",
    )
    @idempotent
    def post(self, request):
        data = s.PassportTakeoverRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        takeover = services.takeover_request(actor=self.actor(), **data.validated_data)
        return Response(s.PassportTakeoverOutput(takeover, context=self.context()).data, status=201)


class TakeoverDetailView(TakeoverView):
    required_permissions = {"GET": "passport:manage"}

    @extend_schema(responses={200: s.PassportTakeoverOutput, 404: TAKEOVER_NOT_YOURS}, summary="One takeover request")
    def get(self, request, takeover_id):
        takeover = selectors.takeover_get(organization_id=self.organization_id, takeover_id=takeover_id)
        return Response(s.PassportTakeoverOutput(takeover, context=self.context()).data)


class TakeoverDecisionView(TakeoverView):
    """The owner's (or staff's) answer to a claim: approve and reject differ only in it."""

    required_permissions = {"POST": "passport:manage"}
    staff_methods = frozenset({"POST"})

    def decide(self, request, takeover_id, *, approve: bool, input_class):
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        with self.scope():
            takeover = services.takeover_decide(
                actor=self.actor(), takeover_id=takeover_id, approve=approve, reason=data.validated_data["reason"]
            )
            return Response(s.PassportTakeoverOutput(takeover, context=self.context()).data)


class TakeoverApproveView(TakeoverDecisionView):
    @extend_schema(
        request=s.PassportTakeoverDecisionInput,
        responses={
            200: s.PassportTakeoverOutput,
            404: TAKEOVER_NOT_YOURS,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: decided already, or not yours to decide"),
        },
        summary="Approve a claim on your device: it moves to the claimant with its whole history",
    )
    def post(self, request, takeover_id):
        return self.decide(request, takeover_id, approve=True, input_class=s.PassportTakeoverDecisionInput)


class TakeoverRejectView(TakeoverDecisionView):
    @extend_schema(
        request=s.PassportTakeoverRejectInput,
        responses={
            200: s.PassportTakeoverOutput,
            404: TAKEOVER_NOT_YOURS,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: decided already, or not yours to decide"),
        },
        summary="Reject a claim on your device",
    )
    def post(self, request, takeover_id):
        return self.decide(request, takeover_id, approve=False, input_class=s.PassportTakeoverRejectInput)


class TakeoverCancelView(TakeoverView):
    required_permissions = {"POST": "passport:manage"}

    @extend_schema(
        request=s.PassportTakeoverDecisionInput,
        responses={
            200: s.PassportTakeoverOutput,
            404: TAKEOVER_NOT_YOURS,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: decided already, or not your claim"),
        },
        summary="Withdraw your organization's pending claim",
    )
    def post(self, request, takeover_id):
        data = s.PassportTakeoverDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        takeover = services.takeover_cancel(
            actor=self.actor(), takeover_id=takeover_id, reason=data.validated_data["reason"]
        )
        return Response(s.PassportTakeoverOutput(takeover, context=self.context()).data)


# --- Service requests --------------------------------------------------------------------------

SERVICE_REQUEST_NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such service request of yours")


class ServiceRequestListView(PassportView):
    required_permissions = {"GET": "service_request:read"}

    @extend_schema(
        responses=s.PassportServiceRequestOutput(many=True),
        summary="Service requests about your organization's devices, newest first (a customer: their own)",
    )
    def get(self, request):
        requests = selectors.service_request_list(
            organization_id=self.organization_id, requested_by=self.own_customer_id()
        )
        return paginated_response(self, requests, s.PassportServiceRequestOutput)


class PassportServiceRequestView(PassportView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "service_request:create"}

    @extend_schema(
        request=s.PassportServiceRequestCreateInput,
        responses={201: s.PassportServiceRequestOutput, 404: NOT_YOURS},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Ask your organization for service on one of its devices (a customer: on one kept for them)",
    )
    @idempotent
    def post(self, request, passport_id):
        data = s.PassportServiceRequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        service_request = services.service_request_create(
            actor=self.actor(),
            passport_id=passport_id,
            data=services.ServiceRequestInput(**data.validated_data),
            customer_id=self.own_customer_id(),
        )
        return Response(s.PassportServiceRequestOutput(service_request).data, status=201)


class ServiceRequestDetailView(PassportView):
    required_permissions = {"GET": "service_request:read"}

    @extend_schema(
        responses={200: s.PassportServiceRequestOutput, 404: SERVICE_REQUEST_NOT_YOURS}, summary="One service request"
    )
    def get(self, request, service_request_id):
        service_request = selectors.service_request_get(
            organization_id=self.organization_id,
            service_request_id=service_request_id,
            requested_by=self.own_customer_id(),
        )
        return Response(s.PassportServiceRequestOutput(service_request).data)


class ServiceRequestStatusView(PassportView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"PATCH": "service_request:update"}

    @extend_schema(
        request=s.PassportServiceRequestStatusInput,
        responses={
            200: s.PassportServiceRequestOutput,
            404: SERVICE_REQUEST_NOT_YOURS,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: closed already"),
        },
        summary="Acknowledge or close a service request",
    )
    def patch(self, request, service_request_id):
        data = s.PassportServiceRequestStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        service_request = services.service_request_change_status(
            actor=self.actor(), service_request_id=service_request_id, **data.validated_data
        )
        return Response(s.PassportServiceRequestOutput(service_request).data)


# --- Code check --------------------------------------------------------------------------------


class CodeValidateView(APIView):
    """Endpoints that read no organization's data."""

    # Pure computation over the code sent: no lookup, so it tells nobody whether a device with
    # this code exists. Open to anyone (a scanner app, a form), counted per IP like every
    # anonymous endpoint.

    permission_classes = [AllowAny]
    throttle_classes = [ApiUserRateThrottle, ApiIpRateThrottle]
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=s.PassportCodeValidateInput,
        responses={200: s.PassportCodeCheckOutput},
        summary="Check a passport code part by part: which part is wrong, and whether the check digits match",
    )
    def post(self, request):
        data = s.PassportCodeValidateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(s.PassportCodeCheckOutput(codes.code_check(data.validated_data["code"])).data)
