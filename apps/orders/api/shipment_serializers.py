"""The shipment of a freight order as the API shows and takes it."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.orders.models import ShipmentAmendment
from apps.orders.shipment_schema import ShipmentData, shipment_missing


class ShipmentAmendmentOutput(serializers.ModelSerializer):
    amended_by = serializers.UUIDField(source="amended_by_id", read_only=True, allow_null=True)
    acting_organization = serializers.UUIDField(source="acting_organization_id", read_only=True, allow_null=True)
    changed_fields = serializers.ListField(child=StrictCharField(), read_only=True)

    class Meta:
        model = ShipmentAmendment
        fields = ["id", "amended_at", "amended_by", "acting_organization", "order_status", "changed_fields"]
        fields += ["old_values", "new_values"]
        read_only_fields = fields


class MissingOutput(serializers.Serializer):
    field = StrictCharField()
    reason = StrictCharField()


class CompletenessOutput(serializers.Serializer):
    complete = serializers.BooleanField()
    missing = MissingOutput(many=True)


class ShipmentOutput(ShipmentData):
    """Every value of the shipment (the same shapes PATCH takes), what it still lacks before
    loading, and its amendments since loading."""

    id = serializers.UUIDField(read_only=True)
    order = serializers.UUIDField(source="order_id", read_only=True)
    order_status = StrictCharField(source="order.status", read_only=True)
    completeness = serializers.SerializerMethodField()
    amendments = ShipmentAmendmentOutput(many=True, read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(CompletenessOutput)
    def get_completeness(self, shipment) -> dict:
        missing = shipment_missing(shipment)
        return {"complete": not missing, "missing": missing}
