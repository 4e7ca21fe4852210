"""Serializers of ingest and devices. A batch's rows are validated by the ingest service's own
validator (apps/tracking/services/ingest.py: one serializer per row would cost more than the
rest of the request); `EventRowInput` describes them for the OpenAPI schema only."""

from __future__ import annotations

from rest_framework import serializers

from apps.tracking.models import Device, DeviceAssignment, EventType


class EventRowInput(serializers.Serializer):
    """One event (schema only: the ingest service validates rows itself)."""

    event_type = serializers.ChoiceField(choices=EventType.choices, required=False, default=EventType.LOCATION_UPDATE)
    occurred_at = serializers.DateTimeField(
        help_text="ISO 8601 with its UTC offset; refused when older than TRACKING MAX_EVENT_AGE "
        "or later than now plus MAX_CLOCK_SKEW."
    )
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
        help_text="Required with a location update.",
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        help_text="Required with a location update.",
    )
    address = serializers.CharField(max_length=300, required=False)
    speed_kmh = serializers.DecimalField(max_digits=6, decimal_places=1, min_value=0, max_value=1000, required=False)
    heading = serializers.IntegerField(min_value=0, max_value=359, required=False)
    temperature_c = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=-100, max_value=200, required=False
    )
    description = serializers.CharField(max_length=300, required=False)
    metadata = serializers.DictField(required=False, help_text="At most 1,024 characters of JSON.")


class EventBatchInput(serializers.Serializer):
    """A batch (schema only). A device sends `events`, or one row's fields at the top level; a
    user names the shipment by `order_id` or `package_id` beside them."""

    events = EventRowInput(many=True, required=False, help_text="Up to TRACKING MAX_BATCH (1,000) rows.")
    order_id = serializers.UUIDField(required=False, help_text="With a user token: the order's tracked shipment.")
    package_id = serializers.UUIDField(required=False, help_text="With a user token: the package's tracked shipment.")


class RejectedRowOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="The row's position in the batch, from 0.")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class IngestOutput(serializers.Serializer):
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Rows of a device already stored (same device and occurred_at).")
    rejected = RejectedRowOutput(many=True)


class LocationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    occurred_at = serializers.DateTimeField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    is_implausible = serializers.BooleanField(help_text="A jump too fast to be true: kept, not used as the position.")


class DeviceInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    serial_number = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class DeviceOutput(serializers.ModelSerializer):
    is_revoked = serializers.SerializerMethodField()

    def get_is_revoked(self, device) -> bool:
        return device.revoked_at is not None

    class Meta:
        model = Device
        fields = ["id", "name", "serial_number", "key_prefix", "is_revoked", "revoked_at", "last_seen_at", "created_at"]
        read_only_fields = fields


class DeviceCreatedOutput(DeviceOutput):
    key = serializers.SerializerMethodField(help_text="Shown this once: keep it, it cannot be read again.")

    def get_key(self, device) -> str:
        return self.context["key"]

    class Meta(DeviceOutput.Meta):
        fields = [*DeviceOutput.Meta.fields, "key"]
        read_only_fields = fields


class AssignmentInput(serializers.Serializer):
    shipment_id = serializers.UUIDField(required=False, help_text="The tracked shipment; or name its order or package.")
    order_id = serializers.UUIDField(required=False)
    package_id = serializers.UUIDField(required=False)
    valid_from = serializers.DateTimeField(required=False, help_text="Default: now.")
    valid_until = serializers.DateTimeField(required=False, allow_null=True, help_text="Open (null): until ended.")

    def validate(self, attrs):
        named = [name for name in ("shipment_id", "order_id", "package_id") if attrs.get(name)]
        if len(named) != 1:
            raise serializers.ValidationError(
                {"shipment_id": ["Name exactly one of shipment_id, order_id, package_id."]}
            )
        return attrs


class AssignmentOutput(serializers.ModelSerializer):
    device_id = serializers.UUIDField(read_only=True)
    shipment_id = serializers.UUIDField(read_only=True)
    order_id = serializers.UUIDField(source="shipment.order_id", read_only=True, allow_null=True)
    package_id = serializers.UUIDField(source="shipment.package_id", read_only=True, allow_null=True)
    reference = serializers.CharField(source="shipment.reference", read_only=True)

    class Meta:
        model = DeviceAssignment
        fields = [
            "id",
            "device_id",
            "shipment_id",
            "order_id",
            "package_id",
            "reference",
            "valid_from",
            "valid_until",
            "created_at",
        ]
        read_only_fields = fields
