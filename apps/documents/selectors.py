"""Reads of the documents context. Row-level security already limits generated documents to
orders where the current organization is a party, and templates to the organization's own."""

from __future__ import annotations

from uuid import UUID

from django.db import connection
from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.documents.content import DEFAULT_TEMPLATE, OptionalField, TemplateOptions
from apps.documents.models import DocumentTemplate, GeneratedDocument, Language

DEFAULT_LANGUAGE = Language.ENGLISH


def document_list(
    *,
    organization_id: UUID,
    order_id: UUID | None = None,
    document_type: str | None = None,
    customer_id: UUID | None = None,
) -> QuerySet[GeneratedDocument]:
    """Every version of the documents of the organization's orders, newest first."""
    queryset = GeneratedDocument.objects.visible_to(organization_id).select_related("signed_by")
    if order_id is not None:
        queryset = queryset.filter(order_id=order_id)
    if document_type:
        queryset = queryset.filter(document_type=document_type)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    return queryset.order_by("-created_at", "-version", "-id")


def document_get(*, organization_id: UUID, document_id: UUID, customer_id: UUID | None = None) -> GeneratedDocument:
    queryset = GeneratedDocument.objects.visible_to(organization_id).filter(pk=document_id)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    document = queryset.select_related("signed_by").first()
    if document is None:
        raise NotFound("Document not found.")
    return document


def template_list(*, organization_id: UUID) -> QuerySet[DocumentTemplate]:
    return DocumentTemplate.objects.filter(organization_id=organization_id).order_by("document_type", "id")


def template_get(*, organization_id: UUID, template_id: UUID) -> DocumentTemplate:
    template = DocumentTemplate.objects.filter(organization_id=organization_id, pk=template_id).first()
    if template is None:
        raise NotFound("Template not found.")
    return template


def template_for(*, organization_id: UUID, document_type: str) -> DocumentTemplate | None:
    """The organization's template of the type, or None: the built-in default applies."""
    return DocumentTemplate.objects.filter(organization_id=organization_id, document_type=document_type).first()


def template_options(template: DocumentTemplate | None) -> tuple[TemplateOptions, str]:
    """What the renderer needs from a template row (or the default), and the language."""
    if template is None:
        return DEFAULT_TEMPLATE, DEFAULT_LANGUAGE
    logo = None
    if template.logo:
        with template.logo.open("rb") as stored:
            logo = stored.read()
    options = TemplateOptions(
        header_text=template.header_text,
        footer_text=template.footer_text,
        logo_png=logo,
        visible_fields=frozenset(OptionalField(name) for name in template.visible_fields),
    )
    return options, template.language


# --- The public verification page's narrow read ----------------------------------------------

# Exactly what documents_public_verification() returns (migration 0002): what identifies the
# paper in hand and its signature; `signed_file` is read to check the signature, never shown.
PUBLIC_VERIFICATION_COLUMNS = (
    "document_type",
    "order_number",
    "version",
    "latest_version",
    "status",
    "sha256",
    "signed_at",
    "signer_name",
    "signed_file",
    "created_at",
)


def public_verification_row(*, document_id: UUID, organization_id: UUID, token: str) -> dict | None:
    """The public columns of the document whose verification token is `token`, or None.

    Needs no tenant scope, and opens none: it reads through the SECURITY DEFINER function,
    the one path by which a caller without a tenant sees anything of a generated document.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM documents_public_verification(%s, %s, %s)", [document_id, organization_id, token])
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([column.name for column in cursor.description], row, strict=True))


# --- Evidence of a dispute: what one document of an order said ------------------------------


def document_of_order(*, organization_id: UUID | None, order_id: UUID, document_id: UUID) -> dict | None:
    """What a generated document of the order is (a plain summary: type, number and version,
    status, whether and by whom it is signed), or None when it is not one of that order's, or
    not one the organization sees. `organization_id` None: platform staff (their scope decides)."""
    documents = GeneratedDocument.objects.filter(pk=document_id, order_id=order_id)
    if organization_id is not None:
        documents = documents.visible_to(organization_id)
    document = documents.first()
    if document is None:
        return None
    return {
        "document_type": document.document_type,
        "document_label": document.get_document_type_display(),
        "order_number": document.order_number,
        "version": document.version,
        "number": f"{document.order_number} v{document.version}",
        "status": document.status,
        "is_draft": document.is_draft,
        "outdated": document.outdated_at is not None,
        "sha256": document.sha256,
        "signed": document.is_signed,
        "signed_at": document.signed_at.isoformat() if document.signed_at else None,
        "signer_name": document.signer_name,
        "signature_sha256": document.signature_sha256,
        "created_at": document.created_at.isoformat(),
    }
