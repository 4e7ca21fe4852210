from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange, Warehouse


class PartyOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class OrderListOutput(serializers.ModelSerializer):
    client_organization = serializers.SerializerMethodField()
    supplier_organization = serializers.SerializerMethodField()

    @extend_schema_field(PartyOutput)
    def get_client_organization(self, order) -> dict:
        return {"id": order.client_organization_id, "name": order.client_organization_name}

    @extend_schema_field(PartyOutput)
    def get_supplier_organization(self, order) -> dict:
        return {"id": order.supplier_organization_id, "name": order.supplier_organization_name}

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "payment_status",
            "client_organization",
            "supplier_organization",
            "currency",
            "total_amount",
            "created_at",
            "status_changed_at",
        ]
        read_only_fields = fields


class OrderItemOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["id", "sku", "name", "quantity", "unit_price", "currency"]
        read_only_fields = fields


class OrderDetailOutput(OrderListOutput):
    items = OrderItemOutput(many=True, read_only=True)
    customer = serializers.UUIDField(source="customer_id", read_only=True, allow_null=True)
    source_warehouse = serializers.UUIDField(source="source_warehouse_id", read_only=True, allow_null=True)
    destination_warehouse = serializers.UUIDField(source="destination_warehouse_id", read_only=True, allow_null=True)

    class Meta(OrderListOutput.Meta):
        fields = [
            *OrderListOutput.Meta.fields,
            "items",
            "customer",
            "source_warehouse",
            "destination_warehouse",
            "shipping_address",
            "metadata",
            "cancellation_reason",
            "updated_at",
        ]
        read_only_fields = fields


# Cancelling has its own endpoint (it needs a reason).
STATUS_MOVES = [choice for choice in OrderStatus.choices if choice[0] != OrderStatus.CANCELLED]


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_MOVES)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class HistoryOutput(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor_id", read_only=True, allow_null=True)
    acting_organization = serializers.UUIDField(source="acting_organization_id", read_only=True, allow_null=True)

    class Meta:
        model = OrderStatusChange
        fields = ["id", "from_status", "to_status", "actor", "acting_organization", "note", "created_at"]
        read_only_fields = fields


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = [
            "id",
            "name",
            "code",
            "country",
            "city",
            "address_line1",
            "address_line2",
            "postal_code",
            "contact_name",
            "contact_phone",
            "contact_email",
            "timezone",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        # Uniqueness in the organization is the service's to check (the organization is not a field).
        validators = []

    def validate_country(self, value: str) -> str:
        if len(value) != 2 or not value.isalpha():
            raise serializers.ValidationError("An ISO 3166-1 alpha-2 code, e.g. DE.")
        return value.upper()

    def validate_timezone(self, value: str) -> str:
        from zoneinfo import available_timezones

        if value not in available_timezones():
            raise serializers.ValidationError("An IANA time zone, e.g. Europe/Berlin.")
        return value


class OrderOptionsOutput(serializers.Serializer):
    kinds = serializers.ListField(child=serializers.CharField(), help_text="Order kinds this organization can start.")
