from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.kyc.checks import DocumentType
from apps.kyc.models import DocumentStatus, KycDocument, Level


class DocumentUploadInput(serializers.Serializer):
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    file = serializers.FileField(allow_empty_file=True, help_text="PDF, JPEG or PNG, at most 10 MB.")
    number = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    bic = StrictCharField(max_length=16, required=False, allow_blank=True)
    account = StrictCharField(max_length=34, required=False, allow_blank=True)
    insurer = StrictCharField(max_length=200, required=False, allow_blank=True)
    policy_number = StrictCharField(max_length=64, required=False, allow_blank=True)
    issued_on = serializers.DateField(required=False, allow_null=True)
    expires_on = serializers.DateField(required=False, allow_null=True)

    FIELD_NAMES = ("bic", "account", "insurer", "policy_number")

    def validate(self, attrs):
        issued, expires = attrs.get("issued_on"), attrs.get("expires_on")
        if issued and expires and expires < issued:
            raise serializers.ValidationError({"expires_on": ["Expires before it was issued."]})
        attrs["fields"] = {name: attrs.pop(name) for name in self.FIELD_NAMES if attrs.get(name)}
        for name in self.FIELD_NAMES:
            attrs.pop(name, None)
        return attrs


class ResubmitInput(DocumentUploadInput):
    document_type = None
    previous_document_id = serializers.UUIDField(help_text="The document this version replaces.")


class CheckResultOutput(serializers.Serializer):
    name = StrictCharField()
    passed = serializers.BooleanField()
    message = StrictCharField()


class DocumentOutput(serializers.ModelSerializer):
    check_results = CheckResultOutput(many=True, read_only=True)
    previous_version = serializers.UUIDField(source="previous_version_id", read_only=True, allow_null=True)

    class Meta:
        model = KycDocument
        fields = [
            "id",
            "document_type",
            "status",
            "original_filename",
            "content_type",
            "size_bytes",
            "number",
            "fields",
            "issued_on",
            "expires_on",
            "check_results",
            "checks_completed_at",
            "flagged_for_review",
            "review_note",
            "reviewed_at",
            "previous_version",
            "version",
            "created_at",
        ]
        read_only_fields = fields


class DocumentDetailOutput(DocumentOutput):
    download_url = serializers.SerializerMethodField()
    download_url_expires_in = serializers.SerializerMethodField()

    class Meta(DocumentOutput.Meta):
        fields = [*DocumentOutput.Meta.fields, "download_url", "download_url_expires_in"]
        read_only_fields = fields

    def get_download_url(self, document) -> str:
        return self.context["download_url"]

    def get_download_url_expires_in(self, document) -> int:
        return self.context["download_url_expires_in"]


REVIEW_DECISIONS = [("approved", "Approve"), ("rejected", "Reject")]


class ReviewInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=REVIEW_DECISIONS)
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class LevelDocumentOutput(serializers.Serializer):
    document_type = StrictCharField()
    status = StrictCharField(help_text="The latest version's status, or `missing`.")
    document_id = serializers.UUIDField(allow_null=True)


class LevelOutput(serializers.Serializer):
    level = StrictCharField()
    complete = serializers.BooleanField()
    documents = LevelDocumentOutput(many=True)


class VerificationStatusOutput(serializers.Serializer):
    status = StrictCharField()
    target_level = StrictCharField()
    verified_level = StrictCharField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    note = StrictCharField()
    levels = LevelOutput(many=True)


class TargetLevelInput(serializers.Serializer):
    target_level = serializers.ChoiceField(choices=Level.choices)


class DocumentListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=DocumentStatus.choices, required=False)
    document_type = serializers.ChoiceField(choices=DocumentType.choices, required=False)
