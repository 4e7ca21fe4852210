from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import (
    CountryField,
    CurrencyField,
    MoneyAmountField,
    MoneyField,
    StrictCharField,
    StrictRegexField,
    StrictURLField,
)
from apps.core.api.serializers import PartyOutput
from apps.core.errors import ValidationFailed
from apps.core.parsers import json_loads_checked
from apps.orders.models import (
    Order,
    OrderItem,
    OrderReturn,
    OrderStatus,
    OrderStatusChange,
    Package,
    ReturnItem,
    ReturnPhoto,
    ReturnStatus,
    UnmatchedArrival,
    Warehouse,
)


def _json_text(text: str, expected: str):
    """JSON sent as text in a multipart form, held to the JSON body's limits (nesting, NUL)."""
    try:
        return json_loads_checked(text)
    except ValidationFailed as error:
        raise serializers.ValidationError(error.message) from error
    except ValueError as error:
        raise serializers.ValidationError(expected) from error


class OrderListOutput(serializers.ModelSerializer):
    total_amount = MoneyField()
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
    unit_price = MoneyField()

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
    note = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class CancelInput(serializers.Serializer):
    reason = StrictCharField(max_length=2000)


class HistoryOutput(serializers.ModelSerializer):
    # The history's columns are by/reason/at (apps.core.lifecycle); the API keeps its names.
    actor = serializers.UUIDField(source="by_id", read_only=True, allow_null=True)
    note = StrictCharField(source="reason", read_only=True)
    created_at = serializers.DateTimeField(source="at", read_only=True)
    acting_organization = serializers.UUIDField(source="acting_organization_id", read_only=True, allow_null=True)

    class Meta:
        model = OrderStatusChange
        fields = ["id", "from_status", "to_status", "actor", "acting_organization", "note", "created_at"]
        read_only_fields = fields


class WarehouseSerializer(serializers.ModelSerializer):
    country = CountryField()

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

    def validate_timezone(self, value: str) -> str:
        from zoneinfo import available_timezones

        if value not in available_timezones():
            raise serializers.ValidationError("An IANA time zone, e.g. Europe/Berlin.")
        return value


class OrderOptionsOutput(serializers.Serializer):
    kinds = serializers.ListField(child=StrictCharField(), help_text="Order kinds this organization can start.")


# --- Parcel forwarding --------------------------------------------------------------------

PHONE_PATTERN = r"^\+?[0-9][0-9 ()\-]{5,22}$"


class AddressSerializer(serializers.Serializer):
    """A shipping address: one structure for every kind of order."""

    name = StrictCharField(max_length=200)
    line1 = StrictCharField(max_length=200)
    line2 = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    city = StrictCharField(max_length=100)
    postal_code = StrictCharField(max_length=20)
    country = CountryField()
    phone = StrictRegexField(PHONE_PATTERN, max_length=24, help_text="International format, e.g. +49 40 1234567.")

    def validate_phone(self, value: str) -> str:
        digits = "".join(character for character in value if character.isdigit())
        if not 7 <= len(digits) <= 15:
            raise serializers.ValidationError("A phone number has 7 to 15 digits.")
        return value.strip()


def _http_url(value: str) -> str:
    from urllib.parse import urlsplit

    if urlsplit(value).scheme.lower() not in ("http", "https"):
        raise serializers.ValidationError("An http or https link.")
    return value


class AssistedPurchaseInput(serializers.Serializer):
    product_url = StrictURLField(max_length=2000, validators=[_http_url])
    title = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=10)
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    shipping_address = AddressSerializer()


class ProductOutput(serializers.Serializer):
    id = serializers.UUIDField()
    external_url = StrictURLField()
    title = StrictCharField()
    price = MoneyField(allow_null=True)
    currency = StrictCharField()
    source_platform = StrictCharField()


class ForwardingDetailOutput(OrderDetailOutput):
    """An order with its parcel forwarding fields."""

    purchase_agent = serializers.UUIDField(source="purchase_agent_id", read_only=True, allow_null=True)
    product = serializers.UUIDField(source="product_id", read_only=True, allow_null=True)
    declared_value = MoneyField(allow_null=True)
    purchase_invoice_filename = StrictCharField(read_only=True)

    class Meta(OrderDetailOutput.Meta):
        fields = [
            *OrderDetailOutput.Meta.fields,
            "purchase_agent",
            "product",
            "external_tracking_number",
            "declared_value",
            "purchase_invoice_filename",
        ]
        read_only_fields = fields


class AssistedPurchaseOutput(serializers.Serializer):
    order = ForwardingDetailOutput()
    product = ProductOutput()
    purchase_agent_assigned = serializers.BooleanField()
    message = StrictCharField()


class QuoteInput(serializers.Serializer):
    price = MoneyAmountField(min_value=Decimal("0.001"), whole_digits=11, help_text="Per piece (at most 10 pieces).")
    currency = CurrencyField()
    note = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class PurchaseInput(serializers.Serializer):
    tracking_number = StrictCharField(max_length=64)
    note = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class SelfPurchaseInput(serializers.Serializer):
    tracking_number = StrictCharField(max_length=64)
    declared_value = MoneyAmountField(min_value=Decimal("0.001"))
    currency = CurrencyField()
    description = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    invoice = serializers.FileField(
        allow_empty_file=True, help_text="The purchase invoice: PDF, JPEG or PNG, at most 10 MB."
    )
    shipping_address = serializers.JSONField(help_text="An address object (see AddressSerializer), as JSON text.")

    def validate_shipping_address(self, value):
        if isinstance(value, str):
            value = _json_text(value, "JSON text of an address object.")
        address = AddressSerializer(data=value)
        if not isinstance(value, dict) or not address.is_valid():
            raise serializers.ValidationError(address.errors if isinstance(value, dict) else "An address object.")
        return address.validated_data


# --- Receiving, packages ------------------------------------------------------------------


class DimensionsSerializer(serializers.Serializer):
    length = serializers.IntegerField(min_value=1, max_value=1000)
    width = serializers.IntegerField(min_value=1, max_value=1000)
    height = serializers.IntegerField(min_value=1, max_value=1000)


class ReceiveInput(serializers.Serializer):
    tracking_number = StrictCharField(max_length=64)
    weight_g = serializers.IntegerField(min_value=1, max_value=1_000_000)
    dimensions_cm = DimensionsSerializer()

    def validate_tracking_number(self, value: str) -> str:
        if not "".join(value.split()):
            raise serializers.ValidationError("This field may not be blank.")
        return value


class PackageOrderOutput(serializers.Serializer):
    id = serializers.UUIDField()
    number = StrictCharField()
    kind = StrictCharField()


class PackageStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["in_transit", "out_for_delivery", "delivered"])
    location = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")


class PackageOutput(serializers.ModelSerializer):
    order = PackageOrderOutput(read_only=True)
    current_warehouse = serializers.UUIDField(source="current_warehouse_id", read_only=True, allow_null=True)
    dimensions_cm = serializers.SerializerMethodField()

    @extend_schema_field(DimensionsSerializer)
    def get_dimensions_cm(self, package) -> dict:
        return {"length": package.length_cm, "width": package.width_cm, "height": package.height_cm}

    class Meta:
        model = Package
        fields = [
            "id",
            "tracking_number",
            "order",
            "weight_g",
            "dimensions_cm",
            "status",
            "current_warehouse",
            "current_location",
            "received_at",
            "estimated_delivery_at",
            "delivered_at",
        ]
        read_only_fields = fields


class UnmatchedArrivalOutput(serializers.ModelSerializer):
    warehouse = serializers.UUIDField(source="warehouse_id", read_only=True)
    dimensions_cm = serializers.SerializerMethodField()

    @extend_schema_field(DimensionsSerializer)
    def get_dimensions_cm(self, arrival) -> dict:
        return {"length": arrival.length_cm, "width": arrival.width_cm, "height": arrival.height_cm}

    class Meta:
        model = UnmatchedArrival
        fields = ["id", "tracking_number", "warehouse", "weight_g", "dimensions_cm", "note", "created_at"]
        read_only_fields = fields


class ReceiveOrderOutput(serializers.Serializer):
    id = serializers.UUIDField()
    number = StrictCharField()
    status = StrictCharField()


class ReceiveOutput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["matched", "already_received", "unmatched"])
    message = StrictCharField()
    package = PackageOutput(allow_null=True)
    order = ReceiveOrderOutput(allow_null=True)
    unmatched_arrival = UnmatchedArrivalOutput(allow_null=True, source="arrival")


class StaffAssignInput(serializers.Serializer):
    user_id = serializers.UUIDField()


# --- Returns ------------------------------------------------------------------------------


class ReturnItemInputSerializer(serializers.Serializer):
    order_item = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class ReturnItemsField(serializers.JSONField):
    """A list of {order_item, quantity}: a JSON array, or its JSON text in a multipart form."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = _json_text(data, "JSON text of a list of {order_item, quantity}.")
        items = ReturnItemInputSerializer(data=data, many=True)
        if not isinstance(data, list) or not items.is_valid():
            raise serializers.ValidationError(items.errors if isinstance(data, list) else "A list of items.")
        if not items.validated_data:
            raise serializers.ValidationError("At least one item.")
        return items.validated_data


@extend_schema_field(ReturnItemInputSerializer(many=True))
class DocumentedReturnItemsField(ReturnItemsField):
    pass


class ReturnCreateInput(serializers.Serializer):
    order = serializers.UUIDField()
    reason = StrictCharField(max_length=2000)
    items = DocumentedReturnItemsField(help_text="[{order_item, quantity}]; in a multipart form, as JSON text.")
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        default=list,
        max_length=5,
        help_text="JPEG or PNG photos, at most 5, each at most 10 MB.",
    )


class ReturnItemOutput(serializers.ModelSerializer):
    order_item = serializers.IntegerField(source="order_item_id", read_only=True)

    class Meta:
        model = ReturnItem
        fields = ["order_item", "quantity"]
        read_only_fields = fields


class ReturnPhotoOutput(serializers.ModelSerializer):
    class Meta:
        model = ReturnPhoto
        fields = ["id", "original_filename", "content_type", "size_bytes", "created_at"]
        read_only_fields = fields


class ReturnOutput(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id", read_only=True)
    order_number = StrictCharField(source="order.number", read_only=True)
    items = ReturnItemOutput(many=True, read_only=True)
    photos = ReturnPhotoOutput(many=True, read_only=True)

    class Meta:
        model = OrderReturn
        fields = [
            "id",
            "order",
            "order_number",
            "status",
            "reason",
            "rejection_reason",
            "items",
            "photos",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


RETURN_MOVES = [choice for choice in ReturnStatus.choices if choice[0] != ReturnStatus.REQUESTED]


class ReturnStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=RETURN_MOVES)
    note = StrictCharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Required to reject: the reason."
    )
