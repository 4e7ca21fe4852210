import base64
import binascii

from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.documents.content import OptionalField
from apps.documents.models import DocumentTemplate, DocumentType, GeneratedDocument, Language

OPTIONAL_FIELD_CHOICES = [(field.value, field.value) for field in OptionalField]


class DocumentGenerateInput(serializers.Serializer):
    order_id = serializers.UUIDField()
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    draft = serializers.BooleanField(
        default=False,
        help_text="Generate from an incomplete shipment anyway, marked DRAFT on every page. Without it, "
        "an incomplete shipment answers 422 DOCUMENT_DATA_INCOMPLETE with the missing fields.",
    )


class DocumentGenerateOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = StrictCharField()
    version = serializers.IntegerField()


class DocumentSignatureOutput(serializers.Serializer):
    signed_by = serializers.UUIDField(source="signed_by_id", allow_null=True)
    signed_at = serializers.DateTimeField()
    signer_name = StrictCharField(help_text="The signing certificate's common name.")
    signature_sha256 = StrictCharField(help_text="SHA-256 of the signed PDF.")


class GeneratedDocumentOutput(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id", read_only=True)
    organization = serializers.UUIDField(source="organization_id", read_only=True, help_text="The issuing party.")
    signature = serializers.SerializerMethodField()

    class Meta:
        model = GeneratedDocument
        fields = [
            "id",
            "order",
            "order_number",
            "organization",
            "document_type",
            "version",
            "language",
            "status",
            "is_draft",
            "outdated_at",
            "failure_reason",
            "sha256",
            "size_bytes",
            "verification_url",
            "signature",
            "rendered_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_signature(self, document) -> DocumentSignatureOutput(allow_null=True):
        return DocumentSignatureOutput(document).data if document.is_signed else None


class GeneratedDocumentDetailOutput(GeneratedDocumentOutput):
    download_url = serializers.SerializerMethodField()
    download_url_expires_in = serializers.SerializerMethodField()

    class Meta(GeneratedDocumentOutput.Meta):
        fields = [*GeneratedDocumentOutput.Meta.fields, "download_url", "download_url_expires_in"]
        read_only_fields = fields

    def get_download_url(self, document) -> str | None:
        """The signed PDF once signed, else the rendered one; null until the document is ready."""
        return self.context.get("download_url")

    def get_download_url_expires_in(self, document) -> int | None:
        return self.context.get("download_url_expires_in")


class DocumentVerificationOutput(serializers.Serializer):
    valid = serializers.BooleanField(
        help_text="Signed, intact, by a trusted certificate, and nothing added after signing."
    )
    intact = serializers.BooleanField()
    trusted = serializers.BooleanField()
    signer = StrictCharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    sha256 = StrictCharField(help_text="Of the stored file that was checked.")
    matches_record = serializers.BooleanField(help_text="The stored file is the one recorded when it was signed.")
    message = StrictCharField()


class LogoField(StrictCharField):
    """A PNG as base64 (null or "" removes the logo)."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if not text:
            return b""
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as error:
            raise serializers.ValidationError("Not base64.") from error


class DocumentTemplateInput(serializers.Serializer):
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    header_text = StrictCharField(max_length=300, required=False, allow_blank=True)
    footer_text = StrictCharField(max_length=300, required=False, allow_blank=True)
    visible_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=OPTIONAL_FIELD_CHOICES),
        max_length=len(OPTIONAL_FIELD_CHOICES),
        required=False,
        help_text="Optional parts the documents show; all of them when omitted on creation.",
    )
    logo_png_base64 = LogoField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=800_000,
        help_text="The logo, a PNG of at most 512 KiB, base64-encoded; empty or null removes it.",
    )

    def validate(self, attrs):
        if "logo_png_base64" in attrs:
            attrs["logo"] = attrs.pop("logo_png_base64") or b""
        return attrs


class DocumentTemplateUpdateInput(DocumentTemplateInput):
    document_type = None


class DocumentTemplateOutput(serializers.ModelSerializer):
    has_logo = serializers.SerializerMethodField()
    visible_fields = serializers.ListField(child=StrictCharField(), read_only=True)

    class Meta:
        model = DocumentTemplate
        fields = [
            "id",
            "document_type",
            "language",
            "header_text",
            "footer_text",
            "visible_fields",
            "has_logo",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_logo(self, template) -> bool:
        return bool(template.logo)


class DocumentListQuery(serializers.Serializer):
    order_id = serializers.UUIDField(required=False)
    document_type = serializers.ChoiceField(choices=DocumentType.choices, required=False)
