"""Shipping documents of an order, versioned and signed, and the templates that dress them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.core.models import TimeStampedModel
from apps.core.rls import Derived, Owned
from apps.documents.content import DocumentType as ContentDocumentType
from apps.documents.content import OptionalField

PARTIES = ("client_organization_id", "supplier_organization_id")


class DocumentType(models.TextChoices):
    COMMERCIAL_INVOICE = ContentDocumentType.COMMERCIAL_INVOICE.value, "Commercial invoice"
    CMR = ContentDocumentType.CMR.value, "CMR consignment note"
    BILL_OF_LADING = ContentDocumentType.BILL_OF_LADING.value, "Bill of lading"
    PACKING_LIST = ContentDocumentType.PACKING_LIST.value, "Packing list"
    CERTIFICATE_OF_ORIGIN = ContentDocumentType.CERTIFICATE_OF_ORIGIN.value, "Certificate of origin"
    PROOF_OF_DELIVERY = ContentDocumentType.PROOF_OF_DELIVERY.value, "Proof of delivery"


class Language(models.TextChoices):
    RUSSIAN = "ru", "Russian"
    ENGLISH = "en", "English"


class GeneratedDocumentStatus(models.TextChoices):
    PENDING = "pending", "Being rendered"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


OPTIONAL_FIELDS = [field.value for field in OptionalField]


def template_logo_path(template: DocumentTemplate, filename: str) -> str:
    return f"documents/templates/{template.organization_id}/{template.id}.png"


def document_file_path(document: GeneratedDocument, filename: str) -> str:
    # Our own names, one per version: a stored file is never overwritten.
    return f"documents/{document.organization_id}/{document.id}.pdf"


def signed_file_path(document: GeneratedDocument, filename: str) -> str:
    return f"documents/{document.organization_id}/{document.id}-signed.pdf"


class DocumentTemplate(TimeStampedModel):
    """How one organization dresses one document type; without a row the built-in default applies."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="document_templates"
    )
    document_type = models.CharField(max_length=24, choices=DocumentType.choices)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    header_text = models.CharField(max_length=300, blank=True)
    footer_text = models.CharField(max_length=300, blank=True)
    logo = models.FileField(upload_to=template_logo_path, max_length=300, blank=True)
    visible_fields = models.JSONField(
        default=list, blank=True, help_text=f"Optional parts shown: any of {', '.join(OPTIONAL_FIELDS)}."
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "document template"
        ordering = ["document_type"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "document_type"], name="document_template_org_type_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} ({self.language})"


class GeneratedDocument(models.Model):
    """One version of one shipping document of an order; both parties of the order see it.

    Rendering fills `file` once (pending → ready | failed). Signing stores the signed PDF
    beside it (`signed_file`) and freezes the row: it is never rendered or signed again.
    """

    # The order's parties are copied onto the row: row-level security reads it alone.
    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The party that generated this version (its template dressed it).
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="documents")
    order_number = models.CharField(max_length=32)
    # The order's customer, for `document:read:own` grants.
    customer_id = models.UUIDField(null=True, blank=True)
    document_type = models.CharField(max_length=24, choices=DocumentType.choices)
    version = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=2, choices=Language.choices)
    status = models.CharField(
        max_length=8, choices=GeneratedDocumentStatus.choices, default=GeneratedDocumentStatus.PENDING
    )
    failure_reason = models.TextField(blank=True)
    # Asked for on purpose from an incomplete shipment: printed with a DRAFT mark on every page.
    is_draft = models.BooleanField(default=False)
    # When the order's shipment changed after this version was made: it no longer says what the
    # shipment says; the next generation makes a new version (apps/documents/receivers.py).
    outdated_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to=document_file_path, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the rendered, unsigned PDF.")
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    verification_token = models.CharField(max_length=120, unique=True)
    verification_url = models.URLField(max_length=300)
    signed_file = models.FileField(upload_to=signed_file_path, max_length=300, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_sha256 = models.CharField(max_length=64, blank=True, help_text="Of the signed PDF.")
    signer_name = models.CharField(max_length=200, blank=True, help_text="The certificate's common name.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rendered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "generated document"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "document_type", "version"], name="generated_document_order_type_version_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="generated_document_org_idx"),
            # The lists' order with its tie-breaker, one per party: each arm of the list's UNION ALL
            # walks one in order (apps/core/visibility.py, docs/decisions/0004-two-party-lists.md).
            models.Index(
                fields=["client_organization", "created_at", "version", "id"], name="document_client_created_idx"
            ),
            models.Index(
                fields=["supplier_organization", "created_at", "version", "id"], name="document_supplier_created_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} {self.order_number} v{self.version} ({self.status})"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None
