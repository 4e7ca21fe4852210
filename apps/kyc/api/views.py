"""KYC API: an organization's documents and verification; staff decisions; signed downloads."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.actors import Actor
from apps.core.api.downloads import OpenedFile, SignedFileView
from apps.core.api.filtering import query_params
from apps.core.context import system_scope
from apps.core.download_links import download_token
from apps.core.pagination import paginated_response
from apps.core.parsers import StrictJSONParser, StrictMultiPartParser
from apps.core.uploads import EXTENSIONS_BY_CONTENT_TYPE
from apps.kyc import selectors, services
from apps.kyc.api import serializers as s
from apps.tenancy.api.base import OrganizationEndpoint

DOWNLOAD_SALT = "apps.kyc.download"


class IsPlatformStaff(BasePermission):
    message = "Only platform staff review KYC documents."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class KycView(OrganizationEndpoint):
    """KYC acts for the current organization."""


def _upload(file) -> services.Upload:
    return services.Upload(name=file.name or "", data=file.read(), content_type=file.content_type)


def _download_url(request, document) -> str:
    token = download_token(salt=DOWNLOAD_SALT, record_id=document.id, organization_id=document.organization_id)
    return request.build_absolute_uri(reverse("kyc-document-file", args=[token]))


def _detail(request, document) -> Response:
    context = {
        "download_url": _download_url(request, document),
        "download_url_expires_in": settings.KYC_DOWNLOAD_URL_MAX_AGE,
    }
    return Response(s.DocumentDetailOutput(document, context=context).data)


class DocumentListView(KycView):
    parser_classes = [StrictMultiPartParser]
    required_permissions = {"GET": "kyc:read", "POST": "kyc:create"}

    @extend_schema(
        parameters=[s.DocumentListQuery],
        responses=s.DocumentOutput(many=True),
        summary="The organization's KYC documents, newest first",
    )
    def get(self, request):
        query = query_params(s.DocumentListQuery, request)
        documents = selectors.document_list(
            organization_id=self.organization_id,
            status=query.get("status"),
            document_type=query.get("document_type"),
        )
        return paginated_response(self, documents, s.DocumentOutput)

    @extend_schema(
        request={"multipart/form-data": s.DocumentUploadInput},
        responses={201: s.DocumentDetailOutput},
        summary="Upload a KYC document (checked at once; the automated checks follow)",
    )
    def post(self, request):
        data = s.DocumentUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        document = services.document_upload(
            organization_id=self.organization_id,
            actor=self.actor(),
            upload=_upload(values.pop("file")),
            **values,
        )
        response = _detail(request, document)
        response.status_code = 201
        return response


class DocumentDetailView(KycView):
    required_permissions = {"GET": "kyc:read"}

    @extend_schema(responses=s.DocumentDetailOutput, summary="One document, with a short-lived download link")
    def get(self, request, document_id):
        return _detail(request, selectors.document_get(organization_id=self.organization_id, document_id=document_id))


class ResubmitView(KycView):
    parser_classes = [StrictMultiPartParser]
    required_permissions = {"POST": "kyc:create"}

    @extend_schema(
        request={"multipart/form-data": s.ResubmitInput},
        responses={201: s.DocumentDetailOutput},
        summary="Upload a new version of a document (the old one is kept, superseded)",
    )
    def post(self, request):
        data = s.ResubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        document = services.document_resubmit(
            organization_id=self.organization_id,
            actor=self.actor(),
            previous_document_id=values.pop("previous_document_id"),
            upload=_upload(values.pop("file")),
            **values,
        )
        response = _detail(request, document)
        response.status_code = 201
        return response


class VerificationStatusView(KycView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "kyc:read", "PATCH": "kyc:update"}

    @extend_schema(responses=s.VerificationStatusOutput, summary="The organization's verification and what it needs")
    def get(self, request):
        return Response(
            s.VerificationStatusOutput(selectors.verification_status(organization_id=self.organization_id)).data
        )

    @extend_schema(request=s.TargetLevelInput, responses=s.VerificationStatusOutput, summary="Ask for a level")
    def patch(self, request):
        data = s.TargetLevelInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.verification_set_target_level(
            organization_id=self.organization_id, actor=self.actor(), level=data.validated_data["target_level"]
        )
        return self.get(request)


class DocumentStatusView(APIView):
    """Platform staff decide on a document of any organization."""

    # Not an OrganizationEndpoint: staff act for no organization of their own, so the decision
    # runs in the audited all-tenants scope (system_scope), opened here for this one document.
    # (Not in the docstring: that is the API's description.)

    parser_classes = [StrictJSONParser]
    permission_classes = [IsAuthenticated, IsPlatformStaff]

    @extend_schema(
        request=s.ReviewInput,
        responses={200: s.DocumentOutput, 422: OpenApiResponse(description="INVALID_STATE_TRANSITION")},
        summary="Approve or reject a document (staff; a reason is required to reject)",
    )
    def put(self, request, document_id):
        data = s.ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        with system_scope(reason=f"kyc review of document {document_id}", actor_id=request.user.id):
            document = services.document_review(
                document_id=document_id,
                actor=Actor.staff(request.user.id),
                approve=data.validated_data["status"] == "approved",
                reason=data.validated_data["reason"],
            )
        return Response(s.DocumentOutput(document).data)


@extend_schema_view(
    get=extend_schema(
        # The file's own type (the upload checks admit these); octet-stream if it was never sniffed.
        responses={(200, kind): bytes for kind in (*EXTENSIONS_BY_CONTENT_TYPE, "application/octet-stream")},
        summary="Download a document's file",
    )
)
class DocumentFileView(SignedFileView):
    salt = DOWNLOAD_SALT

    def max_age(self) -> int:
        return settings.KYC_DOWNLOAD_URL_MAX_AGE

    def open_file(self, *, record_id, organization_id) -> OpenedFile:
        document = selectors.document_get(organization_id=organization_id, document_id=record_id)
        return OpenedFile(
            document.file.open("rb"), document.original_filename, document.content_type or "application/octet-stream"
        )
