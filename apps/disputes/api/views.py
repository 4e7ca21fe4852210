"""Disputes API: the cases about the caller's organization's orders; opening one, adding
evidence, the moves a party makes, answering a resolution. Platform staff (the mediators) use
the same endpoints for every case: assigning a mediator, asking a side for information,
proposing or deciding the resolution."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.response import Response

from apps.core.api.downloads import OpenedFile, SignedFileView
from apps.core.errors import PermissionDenied
from apps.core.idempotency import IDEMPOTENCY_HEADER, IDEMPOTENCY_HEADER_REQUIRED, idempotent
from apps.core.pagination import paginated_response
from apps.core.parsers import StrictJSONParser, StrictMultiPartParser
from apps.core.uploads import EXTENSIONS_BY_CONTENT_TYPE
from apps.disputes import selectors, services
from apps.disputes.api import serializers as s
from apps.disputes.api.timeline_serializers import DisputeTimelineOutput
from apps.disputes.services.evidence import EvidenceLink
from apps.disputes.timeline import dispute_timeline_for_actor
from apps.tenancy.api.base import StaffActingEndpoint

NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such dispute, or not about your organization's order")


class DisputeView(StaffActingEndpoint):
    """A party's member acts for their organization; platform staff who are no member of one act
    as the mediators, for every case."""

    staff_scope_reason = "dispute mediation"

    def staff_only(self) -> None:
        if not self.acting_as_staff():
            raise PermissionDenied("Only the platform's mediators do this.")

    def dispute_body(self, dispute_id) -> dict:
        return s.DisputeDetailOutput(selectors.dispute_detail(actor=self.actor(), dispute_id=dispute_id)).data


class DisputeListView(DisputeView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "dispute:read", "POST": "dispute:create"}

    @extend_schema(
        responses=s.DisputeOutput(many=True), summary="Disputes about your organization's orders, newest first"
    )
    def get(self, request):
        if self.acting_as_staff():
            filters = s.DisputeStaffFilter(data=request.query_params)
            filters.is_valid(raise_exception=True)
            with self.scope():
                disputes = selectors.dispute_staff_list(**filters.validated_data)
                return paginated_response(self, disputes, s.DisputeOutput)
        actor = self.actor()
        disputes = selectors.dispute_list(
            organization_id=self.organization_id, own_user=selectors.own_customer_id(actor)
        )
        return paginated_response(self, disputes, s.DisputeOutput)

    @extend_schema(
        request=s.DisputeOpenInput,
        responses={201: s.DisputeDetailOutput, 404: OpenApiResponse(description="The order is not yours")},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Open a dispute about an order (freezes its escrow when it holds money)",
    )
    @idempotent
    def post(self, request):
        if self.acting_as_staff():
            raise PermissionDenied("A party of the order opens a dispute, not the mediators.")
        data = s.DisputeOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.dispute_open(actor=self.actor(), data=services.DisputeInput(**data.validated_data))
        return Response(self.dispute_body(dispute.id), status=201)


class DisputeDetailView(DisputeView):
    required_permissions = {"GET": "dispute:read"}

    @extend_schema(
        responses={200: s.DisputeDetailOutput, 404: NOT_YOURS}, summary="A dispute with its history and evidence"
    )
    def get(self, request, dispute_id):
        with self.scope():
            return Response(self.dispute_body(dispute_id))


class DisputeStatusView(DisputeView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"PUT": "dispute:create"}

    @extend_schema(
        request=s.DisputeStatusInput,
        responses={
            200: s.DisputeDetailOutput,
            404: NOT_YOURS,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION"),
        },
        summary="Move a dispute (a party withdraws the case it opened, before a resolution)",
    )
    def put(self, request, dispute_id):
        data = s.DisputeStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        with self.scope():
            if fields["status"] == "awaiting_response" and self.acting_as_staff():
                services.dispute_request_information(
                    actor=self.actor(),
                    dispute_id=dispute_id,
                    side=fields.get("side", ""),
                    question=fields["reason"],
                    due_at=fields.get("due_at"),
                )
            else:
                services.dispute_change_status(
                    actor=self.actor(), dispute_id=dispute_id, status=fields["status"], reason=fields["reason"]
                )
            return Response(self.dispute_body(dispute_id))


class DisputeEvidenceView(DisputeView):
    parser_classes = [StrictJSONParser, StrictMultiPartParser]
    required_permissions = {"POST": "dispute:create"}

    @extend_schema(
        request={"application/json": s.DisputeEvidenceInput, "multipart/form-data": s.DisputeEvidenceInput},
        responses={
            201: s.DisputeEvidenceOutput,
            404: NOT_YOURS,
            422: OpenApiResponse(description="The case is over, or the linked record is not one of the order's"),
        },
        summary="Add a statement, a file or a link to a record of the order to a dispute (immutable once added)",
    )
    def post(self, request, dispute_id):
        data = s.DisputeEvidenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        file = data.validated_data.get("file")
        upload = (
            services.Upload(name=file.name or "", data=file.read(), content_type=file.content_type) if file else None
        )
        link = data.validated_data.get("link")
        with self.scope():
            evidence = services.evidence_add(
                actor=self.actor(),
                dispute_id=dispute_id,
                statement=data.validated_data["statement"],
                upload=upload,
                link=EvidenceLink(type=link["type"], id=link["id"]) if link else None,
            )
            return Response(s.DisputeEvidenceOutput(evidence).data, status=201)


class DisputeMediatorView(DisputeView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"PUT": "dispute:create"}  # a member is refused below: staff only

    @extend_schema(
        request=s.DisputeMediatorInput,
        responses={200: s.DisputeDetailOutput, 403: OpenApiResponse(description="Staff only"), 404: NOT_YOURS},
        summary="Assign the case's mediator (platform staff)",
    )
    def put(self, request, dispute_id):
        self.staff_only()
        data = s.DisputeMediatorInput(data=request.data)
        data.is_valid(raise_exception=True)
        with self.scope():
            services.dispute_assign_mediator(actor=self.actor(), dispute_id=dispute_id, **data.validated_data)
            return Response(self.dispute_body(dispute_id))


class DisputeResolutionView(DisputeView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "dispute:create", "PUT": "dispute:create"}

    @extend_schema(
        request=s.DisputeResolutionInput,
        responses={
            201: s.DisputeDetailOutput,
            403: OpenApiResponse(description="Staff only"),
            404: NOT_YOURS,
            422: OpenApiResponse(
                description="INVALID_STATE_TRANSITION (already resolved), INSUFFICIENT_FUNDS (more than held), "
                "VALIDATION_CONSTRAINT_VIOLATION (less than held)"
            ),
        },
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        summary="Propose or decide the resolution (platform staff): release, refund or split what is held",
    )
    @idempotent(required=True)
    def post(self, request, dispute_id):
        self.staff_only()
        data = s.DisputeResolutionInput(data=request.data)
        data.is_valid(raise_exception=True)
        with self.scope():
            services.dispute_resolve(
                actor=self.actor(), dispute_id=dispute_id, data=services.ResolutionInput(**data.validated_data)
            )
            return Response(self.dispute_body(dispute_id), status=201)

    @extend_schema(
        request=s.DisputeResolutionAnswerInput,
        responses={200: s.DisputeDetailOutput, 404: NOT_YOURS, 422: OpenApiResponse(description="Nothing to answer")},
        summary="Accept or reject the proposal or decision (a party); rejecting a decision appeals it",
    )
    def put(self, request, dispute_id):
        if self.acting_as_staff():
            raise PermissionDenied("The parties answer a resolution, not the mediators.")
        data = s.DisputeResolutionAnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.resolution_answer(
            actor=self.actor(),
            dispute_id=dispute_id,
            accept=data.validated_data["answer"] == "accept",
            reason=data.validated_data["reason"],
        )
        return Response(self.dispute_body(dispute_id))


@extend_schema_view(
    get=extend_schema(
        responses={(200, kind): bytes for kind in EXTENSIONS_BY_CONTENT_TYPE},
        summary="Download a dispute's evidence file",
    )
)
class EvidenceFileView(SignedFileView):
    salt = s.DOWNLOAD_SALT

    def max_age(self) -> int:
        return settings.DISPUTES["DOWNLOAD_URL_MAX_AGE"]

    def open_file(self, *, record_id, organization_id) -> OpenedFile:
        evidence = selectors.evidence_for_download(evidence_id=record_id)
        return OpenedFile(evidence.file.open("rb"), evidence.filename, evidence.content_type)


class DisputeTimelineView(DisputeView):
    required_permissions = {"GET": "dispute:read"}

    @extend_schema(
        responses={200: DisputeTimelineOutput, 404: NOT_YOURS},
        summary="Everything that happened to a dispute, oldest first: moves, evidence, messages, deadlines, "
        "resolutions, money",
    )
    def get(self, request, dispute_id):
        with self.scope():
            entries = dispute_timeline_for_actor(actor=self.actor(), dispute_id=dispute_id)
            return Response(DisputeTimelineOutput({"data": entries, "meta": {"total": len(entries)}}).data)
