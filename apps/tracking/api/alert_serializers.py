"""Serializers of alerts: a person raises one on an order's or a package's tracked shipment,
acknowledges and resolves it; the lists show each alert with the shipment it is about."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.tracking.models import Alert, AlertStatusChange, Severity, SubjectKind
from apps.tracking.services.alerts import MESSAGE_MAX_LENGTH, NOTE_MAX_LENGTH


class AlertInput(serializers.Serializer):
    order_id = serializers.UUIDField(required=False, help_text="The tracked order (or give package_id).")
    package_id = serializers.UUIDField(required=False, help_text="The tracked package (or give order_id).")
    severity = serializers.ChoiceField(choices=Severity.choices)
    message = StrictCharField(max_length=MESSAGE_MAX_LENGTH, help_text="What the parties should know.")

    def validate(self, attrs):
        if ("order_id" in attrs) == ("package_id" in attrs):
            named = ["Give order_id or package_id, one of them."]
            raise serializers.ValidationError({"order_id": named, "package_id": named})
        return attrs


class AlertNoteInput(serializers.Serializer):
    note = StrictCharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default="", help_text="Kept in the history."
    )


class AlertStatusChangeOutput(serializers.ModelSerializer):
    by = serializers.UUIDField(source="by_id", read_only=True, allow_null=True)

    class Meta:
        model = AlertStatusChange
        fields = ["from_status", "to_status", "by", "at", "reason"]
        read_only_fields = fields


class AlertSubjectOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SubjectKind.choices)
    id = serializers.UUIDField()
    reference = StrictCharField(help_text="The order's or the package's number.")


class AlertOutput(serializers.ModelSerializer):
    shipment_id = serializers.UUIDField(read_only=True)
    subject = serializers.SerializerMethodField()
    raised_by = serializers.UUIDField(source="raised_by_id", read_only=True, allow_null=True)
    acknowledged_by = serializers.UUIDField(source="acknowledged_by_id", read_only=True, allow_null=True)
    resolved_by = serializers.UUIDField(source="resolved_by_id", read_only=True, allow_null=True)

    @extend_schema_field(AlertSubjectOutput)
    def get_subject(self, alert) -> dict:
        shipment = alert.shipment
        return {
            "kind": shipment.kind,
            "id": shipment.order_id or shipment.package_id,
            "reference": shipment.reference,
        }

    class Meta:
        model = Alert
        fields = [
            "id",
            "alert_type",
            "severity",
            "status",
            "message",
            "details",
            "shipment_id",
            "subject",
            "raised_by",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_by",
            "resolved_at",
            "escalated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AlertDetailOutput(AlertOutput):
    history = AlertStatusChangeOutput(source="status_changes", many=True, read_only=True)

    class Meta(AlertOutput.Meta):
        fields = [*AlertOutput.Meta.fields, "history"]
        read_only_fields = fields
