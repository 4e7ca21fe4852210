"""Serializers of disputes: opening a case, its detail with history and evidence, adding evidence."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.core.download_links import download_token
from apps.disputes.models import (
    Dispute,
    DisputeEvidence,
    DisputeResolution,
    DisputeStatus,
    DisputeStatusChange,
    LinkedRecord,
    Outcome,
    ReasonCategory,
    ResolutionKind,
    ResolutionOutcome,
    Side,
)

DOWNLOAD_SALT = "disputes.evidence"


class DisputeOpenInput(serializers.Serializer):
    order_id = serializers.UUIDField(help_text="The order the dispute is about (your organization is a party).")
    reason_category = serializers.ChoiceField(choices=ReasonCategory.choices)
    description = StrictCharField(max_length=10000)
    amount_claimed = serializers.DecimalField(
        max_digits=15,
        decimal_places=3,
        required=False,
        allow_null=True,
        default=None,
        help_text="Never more than the escrow holds (or, paid outside escrow, the order's total).",
    )
    outcome_requested = serializers.ChoiceField(choices=Outcome.choices)


class DisputeStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=DisputeStatus.choices,
        help_text=(
            "A party may withdraw the case it opened. Staff put a case under review or in mediation, "
            "ask a side for information (awaiting_response, with `side` and the question as `reason`), "
            "and close a resolved case."
        ),
    )
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    side = serializers.ChoiceField(
        choices=Side.choices, required=False, help_text="awaiting_response (staff): the side asked."
    )
    due_at = serializers.DateTimeField(
        required=False, help_text="awaiting_response (staff): the answer's deadline (default: the response window)."
    )


class DisputeStaffFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=DisputeStatus.choices, required=False)
    mediator_id = serializers.UUIDField(required=False)


class DisputeMediatorInput(serializers.Serializer):
    mediator_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="A member of the platform staff (default: you)."
    )


class DisputeResolutionInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ResolutionKind.choices,
        default=ResolutionKind.DECISION,
        help_text="A proposal moves nothing until both parties accept it; a decision moves the held money.",
    )
    outcome = serializers.ChoiceField(choices=ResolutionOutcome.choices)
    release_amount = serializers.DecimalField(
        max_digits=15,
        decimal_places=3,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="To the supplier. With escrow, release and refund add up to what it holds.",
    )
    refund_amount = serializers.DecimalField(
        max_digits=15,
        decimal_places=3,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="Back to the client.",
    )
    reason = StrictCharField(max_length=5000, help_text="Why: the parties read it.")


class DisputeResolutionAnswerInput(serializers.Serializer):
    answer = serializers.ChoiceField(
        choices=[("accept", "Accept"), ("reject", "Reject")],
        help_text="Rejecting a decision within the appeal window appeals it.",
    )
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class DisputeEvidenceLinkInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=LinkedRecord.choices)
    id = serializers.UUIDField(help_text="The record's id: it must be a record of the dispute's order.")


class DisputeEvidenceInput(serializers.Serializer):
    statement = StrictCharField(
        max_length=settings.DISPUTES["MAX_STATEMENT_CHARACTERS"] + 1000, required=False, allow_blank=True, default=""
    )
    file = serializers.FileField(required=False, help_text="A PDF, JPEG or PNG of up to 10 MB.")
    link = DisputeEvidenceLinkInput(
        required=False,
        help_text="A record the platform holds about the order (JSON only): a tracking event of its shipment, "
        "a document generated for it, a message of its or the dispute's chat, a photo of one of its returns.",
    )

    def validate(self, attrs):
        # A form field cannot hold the link's object; DRF would silently drop it.
        if "link" in self.initial_data and "link" not in attrs:
            raise serializers.ValidationError({"link": ["Send a link in a JSON body, as an object with type and id."]})
        return attrs


class DisputeOutput(serializers.ModelSerializer):
    order_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "number",
            "order_id",
            "order_number",
            "escrow_id",
            "client_organization_name",
            "supplier_organization_name",
            "opened_by_side",
            "reason_category",
            "description",
            "amount_claimed",
            "currency",
            "outcome_requested",
            "status",
            "status_changed_at",
            "response_side",
            "response_due_at",
            "mediator_assigned",
            "resolved_at",
            "appeal_until",
            "created_at",
        ]
        read_only_fields = fields

    mediator_assigned = serializers.SerializerMethodField(help_text="Whether a mediator has taken the case.")

    def get_mediator_assigned(self, dispute) -> bool:
        return dispute.mediator_id is not None


class DisputeStatusChangeOutput(serializers.ModelSerializer):
    by = serializers.UUIDField(source="by_id", read_only=True, allow_null=True)

    class Meta:
        model = DisputeStatusChange
        fields = ["from_status", "to_status", "by", "at", "reason"]
        read_only_fields = fields


class DisputeEvidenceOutput(serializers.ModelSerializer):
    # Text rather than a second enum of the same choices as the input's link type (one schema name each).
    linked_type = StrictCharField(
        read_only=True, help_text=f"A link's kind of record: {', '.join(LinkedRecord.values)}; blank otherwise."
    )
    linked_summary = serializers.JSONField(
        read_only=True, help_text="What the linked record said when it was linked (it may change or go later)."
    )
    download_url = serializers.SerializerMethodField(help_text="A file's link; works for a few minutes.")

    class Meta:
        model = DisputeEvidence
        fields = [
            "id",
            "kind",
            "added_by_side",
            "statement",
            "filename",
            "content_type",
            "size",
            "download_url",
            "linked_type",
            "linked_id",
            "linked_summary",
            "created_at",
        ]
        read_only_fields = fields

    def get_download_url(self, evidence) -> str | None:
        if not evidence.file:
            return None
        token = download_token(
            salt=DOWNLOAD_SALT, record_id=evidence.id, organization_id=evidence.client_organization_id
        )
        return reverse("dispute-evidence-file", args=[token])


class DisputeResolutionOutput(serializers.ModelSerializer):
    class Meta:
        model = DisputeResolution
        fields = [
            "id",
            "kind",
            "outcome",
            "release_amount",
            "refund_amount",
            "currency",
            "reason",
            "escrow_moved",
            "client_answer",
            "client_answered_at",
            "supplier_answer",
            "supplier_answered_at",
            "superseded_at",
            "created_at",
        ]
        read_only_fields = fields


class DisputeDetailOutput(DisputeOutput):
    history = DisputeStatusChangeOutput(source="status_changes", many=True, read_only=True)
    evidence = DisputeEvidenceOutput(many=True, read_only=True)
    resolutions = DisputeResolutionOutput(many=True, read_only=True)

    class Meta(DisputeOutput.Meta):
        fields = [*DisputeOutput.Meta.fields, "history", "evidence", "resolutions"]
        read_only_fields = fields
