"""Experts API: the catalogue customers choose from (every published profile, and the
organization's own experts), an expert's passport and work status, the service orders matching
proposed to them and the ones they worked, their certifications, the skills vocabulary and the
code check.

Roles (apps/tenancy/roles.py): everyone who orders service reads the catalogue (expert:read);
an expert keeps their own passport (expert:manage:own), a dispatcher the organization's experts
(expert:manage). Writes and an expert's own lists reach only the organization's own experts:
another organization's (a published profile too) is 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.downloads import OpenedFile, SignedFileView
from apps.core.api.filtering import filter_queryset
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import paginated_response
from apps.core.parsers import StrictJSONParser, StrictMultiPartParser
from apps.core.throttling import ApiIpRateThrottle, ApiUserRateThrottle
from apps.core.uploads import EXTENSIONS_BY_CONTENT_TYPE, Upload
from apps.service import codes, selectors, services
from apps.service.api import expert_serializers as s
from apps.service.api.filters import ExpertFilter
from apps.tenancy.api.base import OrganizationEndpoint

FEATURE = "expert_services"

NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such expert in your organization (or not yours to keep)")
NOT_FOUND = OpenApiResponse(description="NOT_FOUND: no published expert, nor one of yours, has this id")
ILLEGAL_MOVE = OpenApiResponse(
    description="INVALID_STATE_TRANSITION: the move is not allowed from the expert's work status (the allowed "
    "ones are in details), or RUSHING without an active paid membership"
)


def upload_of(file) -> Upload:
    return Upload(name=file.name or "", data=file.read(), content_type=file.content_type)


class ServiceEndpoint(OrganizationEndpoint):
    """Acts for the caller's organization, with expert services on."""

    required_feature = FEATURE

    def context(self) -> dict:
        return {"organization_id": self.organization_id}


class ExpertView(ServiceEndpoint):
    def expert_body(self, expert_id) -> dict:
        expert = selectors.expert_get(organization_id=self.organization_id, expert_id=expert_id)
        return s.ExpertDetailOutput(expert, context=self.context()).data

    def own_expert(self, expert_id):
        """The organization's expert the caller keeps (an `:own` grant: their own passport)."""
        return selectors.expert_of_organization(
            organization_id=self.organization_id, expert_id=expert_id, user_id=self.own_customer_id()
        )


class ExpertListView(ExpertView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "expert:read", "POST": "expert:manage"}
    filterset_class = ExpertFilter  # for the schema: the filters of GET /experts

    @extend_schema(
        filters=True,
        responses=s.ExpertOutput(many=True),
        summary="The experts you choose from: every published profile, and your organization's own",
    )
    def get(self, request):
        experts = selectors.expert_catalogue(organization_id=self.organization_id)
        return paginated_response(
            self, filter_queryset(ExpertFilter, request, experts), s.ExpertOutput, context=self.context()
        )

    @extend_schema(
        request=s.ExpertCreateInput,
        responses={
            201: s.ExpertDetailOutput,
            400: OpenApiResponse(description="Invalid fields, a person who is no member, or a second passport"),
            403: OpenApiResponse(description="RBAC_PERMISSION_DENIED: your role makes a passport only for yourself"),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Make an expert passport (its code is issued now; IDLE, FREE membership)",
    )
    @idempotent
    def post(self, request):
        data = s.ExpertCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        expert = services.expert_register(actor=self.actor(), data=services.ExpertInput(**data.validated_data))
        return Response(self.expert_body(expert.id), status=201)


class ExpertSkillsView(ServiceEndpoint):
    required_permissions = {"GET": "expert:read"}

    @extend_schema(
        responses=s.ExpertVocabularyOutput,
        summary="The skills vocabulary: industries, their skills, and the INDUSTRY-SKILL keys",
    )
    def get(self, request):
        return Response(s.ExpertVocabularyOutput(s.vocabulary_body()).data)


class ExpertDetailView(ExpertView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "expert:read", "PATCH": "expert:manage"}

    @extend_schema(
        responses={200: s.ExpertDetailOutput, 404: NOT_FOUND},
        summary="An expert's profile with their certifications",
    )
    def get(self, request, expert_id):
        return Response(self.expert_body(expert_id))

    @extend_schema(
        request=s.ExpertUpdateInput,
        responses={200: s.ExpertDetailOutput, 404: NOT_YOURS},
        summary="Correct your organization's expert's profile (the code never changes)",
    )
    def patch(self, request, expert_id):
        data = s.ExpertUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.expert_update(actor=self.actor(), expert_id=expert_id, changes=dict(data.validated_data))
        return Response(self.expert_body(expert_id))


class ExpertWorkStatusView(ExpertView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"PATCH": "expert:manage"}

    @extend_schema(
        request=s.ExpertWorkStatusInput,
        responses={200: s.ExpertDetailOutput, 404: NOT_YOURS, 422: ILLEGAL_MOVE},
        summary="Change the expert's work status (RUSHING takes urgent work live; it needs a paid membership)",
    )
    def patch(self, request, expert_id):
        data = s.ExpertWorkStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.expert_work_status_change(actor=self.actor(), expert_id=expert_id, **data.validated_data)
        return Response(self.expert_body(expert_id))


class ExpertMatchListView(ExpertView):
    required_permissions = {"GET": "expert:manage"}

    @extend_schema(
        responses={200: s.ExpertMatchOutput(many=True), 404: NOT_YOURS},
        summary="The service orders matching proposed to the expert, newest first, with the score and why",
    )
    def get(self, request, expert_id):
        matches = selectors.expert_matches(expert=self.own_expert(expert_id))
        return paginated_response(self, matches, s.ExpertMatchOutput)


class ExpertMatchDetailView(ExpertView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"PATCH": "expert:manage"}

    @extend_schema(
        request=s.ExpertMatchStatusInput,
        responses={
            200: s.ExpertMatchOutput,
            404: OpenApiResponse(description="NOT_FOUND: no such match of your organization's expert"),
        },
        summary="Mark a proposed service order as viewed, contacted or dismissed",
    )
    def patch(self, request, expert_id, match_id):
        data = s.ExpertMatchStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        match = services.match_status_set(
            actor=self.actor(), expert_id=expert_id, match_id=match_id, status=data.validated_data["status"]
        )
        return Response(s.ExpertMatchOutput(match).data)


class ExpertServiceRecordListView(ExpertView):
    required_permissions = {"GET": "expert:manage"}

    @extend_schema(
        responses={200: s.ExpertServiceRecordOutput(many=True), 404: NOT_YOURS},
        summary="The service orders the expert holds or completed, newest first",
    )
    def get(self, request, expert_id):
        records = selectors.expert_service_records(expert=self.own_expert(expert_id))
        return paginated_response(self, records, s.ExpertServiceRecordOutput)


class ExpertCertificationListView(ExpertView):
    parser_classes = [StrictMultiPartParser]
    required_permissions = {"POST": "expert:manage"}

    @extend_schema(
        request={"multipart/form-data": s.ExpertCertificationInput},
        responses={201: s.ExpertCertificationOutput, 404: NOT_YOURS},
        summary="Add a certificate (with its file and expiry) to the expert's passport",
    )
    def post(self, request, expert_id):
        data = s.ExpertCertificationInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        file = fields.pop("file", None)
        certification = services.expert_certification_add(
            actor=self.actor(),
            expert_id=expert_id,
            data=services.CertificationInput(**fields, upload=upload_of(file) if file else None),
        )
        return Response(s.ExpertCertificationOutput(certification, context=self.context()).data, status=201)


class ExpertCertificationDetailView(ExpertView):
    required_permissions = {"DELETE": "expert:manage"}

    @extend_schema(
        responses={204: None, 404: OpenApiResponse(description="NOT_FOUND: no such certificate of yours")},
        summary="Remove a certificate from the expert's passport",
    )
    def delete(self, request, expert_id, certification_id):
        services.expert_certification_remove(actor=self.actor(), expert_id=expert_id, certification_id=certification_id)
        return Response(status=204)


@extend_schema_view(
    get=extend_schema(
        responses={(200, kind): bytes for kind in EXTENSIONS_BY_CONTENT_TYPE},
        summary="Download an expert's certificate",
    )
)
class CertificationFileView(SignedFileView):
    salt = s.CERTIFICATION_SALT

    def max_age(self) -> int:
        return s.download_max_age()

    def open_file(self, *, record_id, organization_id) -> OpenedFile:
        certification = selectors.certification_get(organization_id=organization_id, certification_id=record_id)
        return OpenedFile(certification.file.open("rb"), certification.filename, certification.content_type)


class ExpertCodeValidateView(APIView):
    """Checks a code as typed; reads no organization's data (open to anyone)."""

    # Pure computation over the code sent (as POST /passports/codes/validate): no lookup, so it
    # tells nobody whether an expert with this code exists. Open to anyone, counted per IP.

    permission_classes = [AllowAny]
    throttle_classes = [ApiUserRateThrottle, ApiIpRateThrottle]
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=s.ExpertCodeValidateInput,
        responses={200: s.ExpertCodeCheckOutput},
        summary="Check an expert passport code part by part: which part is wrong, and the check digits",
    )
    def post(self, request):
        data = s.ExpertCodeValidateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(s.ExpertCodeCheckOutput(codes.code_check(data.validated_data["code"])).data)
