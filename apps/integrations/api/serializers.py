"""Serializers of the platform integrations API: connecting and changing a shop (its credentials are
write-only: an answer shows their names, masked, never a value), the sync log, the quarantine, the
probable duplicates, billing records and platform orders with their fulfilment pushes."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import MoneyField, StrictCharField
from apps.integrations import selectors
from apps.integrations.models import (
    BillingRecord,
    DuplicateFlag,
    Platform,
    PlatformConfiguration,
    PlatformOrderLink,
    QuarantinedOrder,
    StatusPush,
    SyncRun,
)

CREDENTIALS_HELP = (
    "The platform's credential fields, each a string (Shopify: access_token, api_secret; every platform's in "
    "docs/integrations.md). Checked against the platform before they are kept, encrypted; never shown again."
)
MAX_CREDENTIAL_LENGTH = 4000


def _sync_interval(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=settings.INTEGRATIONS["SYNC_INTERVAL_MIN"],
        max_value=7 * 24 * 3600,
        help_text="Seconds between two scheduled syncs (default INTEGRATIONS_SYNC_INTERVAL_SECONDS, 300).",
        **kwargs,
    )


def _credentials(**kwargs) -> serializers.DictField:
    return serializers.DictField(
        child=StrictCharField(max_length=MAX_CREDENTIAL_LENGTH, trim_whitespace=False),
        write_only=True,
        allow_empty=False,
        help_text=CREDENTIALS_HELP,
        **kwargs,
    )


# --- Shops ---------------------------------------------------------------------------------------


class ConfigurationCreateInput(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    shop_id = StrictCharField(
        max_length=128, help_text="The platform's id of the shop (Shopify: its myshopify.com domain)."
    )
    name = StrictCharField(max_length=200, help_text="What the shop is called here.")
    credentials = _credentials()
    sync_interval = _sync_interval(required=False, allow_null=True, default=None)


class ConfigurationUpdateInput(serializers.Serializer):
    """Every field optional: only those sent change."""

    name = StrictCharField(max_length=200, required=False)
    sync_interval = _sync_interval(required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="false pauses the shop's syncs; true resumes them (and closes an open circuit)."
    )
    credentials = _credentials(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "The credential fields the shop holds, masked (secrets as ••••, identifiers by their last "
        "four characters): never a value.",
        "example": {"access_token": "••••", "api_secret": "••••"},
    }
)
class CredentialSummaryField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        kwargs["source"] = "*"
        super().__init__(**kwargs)

    def to_representation(self, configuration):
        return selectors.configuration_credential_summary(configuration)


class ConfigurationOutput(serializers.ModelSerializer):
    credentials = CredentialSummaryField()

    class Meta:
        model = PlatformConfiguration
        fields = [
            "id",
            "platform",
            "shop_id",
            "name",
            "sync_interval",
            "is_active",
            "health",
            "last_sync_at",
            "last_success_at",
            "next_sync_at",
            "watermark",
            "consecutive_failures",
            "circuit_opened_at",
            "last_error_code",
            "last_error",
            "webhooks_registered_at",
            "created_at",
            "credentials",
        ]
        read_only_fields = fields


class SyncRunOutput(serializers.ModelSerializer):
    configuration_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "configuration_id",
            "trigger",
            "status",
            "started_at",
            "finished_at",
            "window_start",
            "window_end",
            "pages",
            "fetched",
            "created",
            "updated",
            "unchanged",
            "quarantined",
            "retries",
            "error_code",
            "error",
        ]
        read_only_fields = fields


# --- What the syncs found -----------------------------------------------------------------------


class QuarantinedOrderOutput(serializers.ModelSerializer):
    configuration_id = serializers.UUIDField(read_only=True)
    raw_payload = serializers.JSONField(read_only=True, help_text="The platform's order as it came.")

    class Meta:
        model = QuarantinedOrder
        fields = [
            "id",
            "configuration_id",
            "external_id",
            "reason",
            "first_seen_at",
            "last_seen_at",
            "times_seen",
            "released_at",
            "raw_payload",
        ]
        read_only_fields = fields


class PlatformOrderSummaryOutput(serializers.ModelSerializer):
    """One side of a probable duplicate."""

    total_amount = MoneyField()

    class Meta:
        model = PlatformOrderLink
        fields = [
            "id",
            "platform",
            "shop_id",
            "external_id",
            "order_id",
            "order_number",
            "platform_created_at",
            "total_amount",
            "currency",
        ]
        read_only_fields = fields


class DuplicateFlagOutput(serializers.ModelSerializer):
    link = PlatformOrderSummaryOutput(read_only=True, help_text="The platform order imported last.")
    other_link = PlatformOrderSummaryOutput(read_only=True, help_text="The order of another platform it resembles.")
    reasons = serializers.ListField(child=StrictCharField(), read_only=True)

    class Meta:
        model = DuplicateFlag
        fields = ["id", "status", "reasons", "flagged_at", "reviewed_at", "review_note", "link", "other_link"]
        read_only_fields = fields


class BillingRecordOutput(serializers.ModelSerializer):
    platform_order_id = serializers.UUIDField(source="link_id", read_only=True, help_text="The platform order's id.")
    amount = MoneyField()

    class Meta:
        model = BillingRecord
        fields = [
            "id",
            "platform_order_id",
            "order_id",
            "kind",
            "number",
            "amount",
            "currency",
            "status",
            "issued_at",
            "external_reference",
        ]
        read_only_fields = fields


class StatusPushOutput(serializers.ModelSerializer):
    status = StrictCharField(read_only=True, help_text="Our order status pushed (in_transit: shipped).")

    class Meta:
        model = StatusPush
        fields = [
            "id",
            "status",
            "tracking_number",
            "carrier",
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class PlatformOrderOutput(serializers.ModelSerializer):
    configuration_id = serializers.UUIDField(read_only=True)
    total_amount = MoneyField()
    platform_status = StrictCharField(read_only=True, help_text="The platform's own status, as it sent it.")
    mapped_status = StrictCharField(
        read_only=True, help_text="Our order status the platform's maps to; empty when it maps to none."
    )

    class Meta:
        model = PlatformOrderLink
        # The columns the selectors load, so a field shown is never a deferred load per row.
        fields = [name for name in selectors.LINK_COLUMNS if name != "organization_id"]
        read_only_fields = fields


class PlatformOrderDetailOutput(PlatformOrderOutput):
    billing_records = BillingRecordOutput(many=True, read_only=True)
    pushes = StatusPushOutput(many=True, read_only=True, help_text="Fulfilments pushed back, newest first.")

    class Meta(PlatformOrderOutput.Meta):
        fields = [*PlatformOrderOutput.Meta.fields, "billing_records", "pushes"]
        read_only_fields = fields


class ShipInput(serializers.Serializer):
    tracking_number = StrictCharField(max_length=100, help_text="1 to 100 letters, digits, - or _.")
    carrier = StrictCharField(max_length=100, help_text="Who carries it (pushed to the platform with the number).")
