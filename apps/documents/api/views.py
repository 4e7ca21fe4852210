"""Documents API: generate (202, rendered by a worker), read, sign, verify; templates; signed downloads."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.response import Response

from apps.core.api.downloads import OpenedFile, SignedFileView
from apps.core.api.filtering import query_params
from apps.core.download_links import download_token
from apps.core.errors import NotFound
from apps.core.pagination import paginated_response
from apps.documents import selectors, services
from apps.documents.api import serializers as s
from apps.documents.models import GeneratedDocumentStatus
from apps.orders.selectors import order_scope
from apps.tenancy.api.base import OrganizationEndpoint

DOWNLOAD_SALT = "apps.documents.download"


class DocumentsView(OrganizationEndpoint):
    """Documents act for the current organization, as far as the member reaches its orders
    (`order:read:own` or `document:*:own`: the customer's orders only)."""

    def order_customer_id(self) -> UUID | None:
        permission = self.method_permission
        return order_scope(actor=self.actor(), permission=permission).customer_id


def _download_url(request, document) -> str:
    token = download_token(salt=DOWNLOAD_SALT, record_id=document.id, organization_id=document.organization_id)
    return request.build_absolute_uri(reverse("document-file", args=[token]))


def _detail(request, document, status: int = 200) -> Response:
    context = {}
    if document.status == GeneratedDocumentStatus.READY:
        context = {
            "download_url": _download_url(request, document),
            "download_url_expires_in": settings.DOCUMENT_DOWNLOAD_URL_MAX_AGE,
        }
    return Response(s.GeneratedDocumentDetailOutput(document, context=context).data, status=status)


class DocumentListView(DocumentsView):
    required_permissions = {"GET": "document:read"}

    @extend_schema(
        parameters=[s.DocumentListQuery],
        responses=s.GeneratedDocumentOutput(many=True),
        summary="Documents of the organization's orders (every version), newest first",
    )
    def get(self, request):
        query = query_params(s.DocumentListQuery, request)
        documents = selectors.document_list(
            organization_id=self.organization_id,
            order_id=query.get("order_id"),
            document_type=query.get("document_type"),
            customer_id=self.order_customer_id(),
        )
        return paginated_response(self, documents, s.GeneratedDocumentOutput)


class GenerateView(DocumentsView):
    required_permissions = {"POST": "document:create"}

    @extend_schema(
        request=s.DocumentGenerateInput,
        responses={
            202: s.DocumentGenerateOutput,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: the latest version is signed"),
        },
        summary="Generate a document of an order (the next version); a worker renders it",
    )
    def post(self, request):
        data = s.DocumentGenerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.document_generate(
            organization_id=self.organization_id,
            actor=self.actor(),
            customer_id=self.order_customer_id(),
            **data.validated_data,
        )
        return Response(s.DocumentGenerateOutput(document).data, status=202)


class DocumentDetailView(DocumentsView):
    required_permissions = {"GET": "document:read"}

    @extend_schema(
        responses=s.GeneratedDocumentDetailOutput, summary="One document version, with a short-lived download link"
    )
    def get(self, request, document_id):
        document = selectors.document_get(
            organization_id=self.organization_id, document_id=document_id, customer_id=self.order_customer_id()
        )
        return _detail(request, document)


class SignView(DocumentsView):
    required_permissions = {"POST": "document:create"}

    @extend_schema(
        request=None,
        responses={
            200: s.GeneratedDocumentDetailOutput,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: not ready, signed already, or superseded"),
        },
        summary="Sign the document with the platform's certificate (the version is then frozen)",
    )
    def post(self, request, document_id):
        document = services.document_sign(
            organization_id=self.organization_id,
            actor=self.actor(),
            document_id=document_id,
            customer_id=self.order_customer_id(),
        )
        return _detail(request, document)


class VerifyView(DocumentsView):
    required_permissions = {"GET": "document:read"}

    @extend_schema(responses=s.DocumentVerificationOutput, summary="Check the stored file's signature with pyHanko")
    def get(self, request, document_id):
        document = selectors.document_get(
            organization_id=self.organization_id, document_id=document_id, customer_id=self.order_customer_id()
        )
        verification = services.document_verify(document=document)
        result = verification.result
        return Response(
            s.DocumentVerificationOutput(
                {
                    "valid": result.valid and verification.matches_record,
                    "intact": result.intact,
                    "trusted": result.trusted,
                    "signer": result.signer,
                    "signed_at": result.signed_at,
                    "sha256": result.sha256,
                    "matches_record": verification.matches_record,
                    "message": result.message,
                }
            ).data
        )


class TemplateListView(DocumentsView):
    required_permissions = {"GET": "document:read", "POST": "document_template:create"}

    @extend_schema(responses=s.DocumentTemplateOutput(many=True), summary="The organization's document templates")
    def get(self, request):
        return paginated_response(
            self, selectors.template_list(organization_id=self.organization_id), s.DocumentTemplateOutput
        )

    @extend_schema(
        request=s.DocumentTemplateInput,
        responses={201: s.DocumentTemplateOutput},
        summary="Create the organization's template for a document type (org admins)",
    )
    def post(self, request):
        data = s.DocumentTemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        template = services.template_create(
            organization_id=self.organization_id,
            actor=self.actor(),
            document_type=values.pop("document_type"),
            values=values,
        )
        return Response(s.DocumentTemplateOutput(template).data, status=201)


class TemplateDetailView(DocumentsView):
    required_permissions = {"PUT": "document_template:update"}

    @extend_schema(
        request=s.DocumentTemplateUpdateInput,
        responses=s.DocumentTemplateOutput,
        summary="Change a template (org admins)",
    )
    def put(self, request, template_id):
        data = s.DocumentTemplateUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.template_update(
            organization_id=self.organization_id,
            actor=self.actor(),
            template_id=template_id,
            values=dict(data.validated_data),
        )
        return Response(s.DocumentTemplateOutput(template).data)


@extend_schema_view(get=extend_schema(responses={(200, "application/pdf"): bytes}, summary="Download a document's PDF"))
class DocumentFileView(SignedFileView):
    salt = DOWNLOAD_SALT

    def max_age(self) -> int:
        return settings.DOCUMENT_DOWNLOAD_URL_MAX_AGE

    def open_file(self, *, record_id, organization_id) -> OpenedFile:
        document = selectors.document_get(organization_id=organization_id, document_id=record_id)
        stored = document.signed_file if document.is_signed else document.file
        if not stored:
            raise NotFound("The document has no file yet.")
        suffix = "-signed" if document.is_signed else ""
        filename = f"{document.document_type}-{document.order_number}-v{document.version}{suffix}.pdf"
        return OpenedFile(stored.open("rb"), filename, "application/pdf")
