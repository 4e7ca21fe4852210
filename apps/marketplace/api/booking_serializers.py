"""Serializers of bookings: a shipper books an instant quote; the carrier answers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import MoneyField
from apps.core.api.serializers import PartyOutput
from apps.marketplace.models import Booking, BookingStatusChange


class BookingInput(serializers.Serializer):
    quote_id = serializers.UUIDField(help_text="A quote of POST /pricing/quote, before its valid_until.")
    shipment = serializers.DictField(
        required=False,
        default=dict,
        help_text=(
            "What the shipper adds to the quote's shipment, by the fields of GET /orders/{id}/shipment "
            "(consignee, cargo details, instructions...). An object merges into the quoted one key by key; "
            "the first cargo line merges into the quoted line. The quoted places and weight cannot change."
        ),
    )


class BookingStatusChangeOutput(serializers.ModelSerializer):
    by = serializers.UUIDField(source="by_id", read_only=True, allow_null=True)

    class Meta:
        model = BookingStatusChange
        fields = ["from_status", "to_status", "by", "at", "reason"]
        read_only_fields = fields


class BookingOutput(serializers.ModelSerializer):
    shipper_organization = serializers.SerializerMethodField()
    carrier_organization = serializers.SerializerMethodField()
    order = serializers.UUIDField(source="order_id", read_only=True)
    quote_id = serializers.UUIDField(source="quote_record_id", read_only=True)
    offering = serializers.UUIDField(source="offering_id", read_only=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)
    price = MoneyField(help_text="The quoted price, held: a tariff changed after the quote does not change it.")

    @extend_schema_field(PartyOutput)
    def get_shipper_organization(self, booking) -> dict:
        return {"id": booking.shipper_organization_id, "name": booking.shipper_organization_name}

    @extend_schema_field(PartyOutput)
    def get_carrier_organization(self, booking) -> dict:
        return {"id": booking.carrier_organization_id, "name": booking.carrier_organization_name}

    class Meta:
        model = Booking
        fields = [
            "id",
            "number",
            "status",
            "shipper_organization",
            "carrier_organization",
            "order",
            "quote_id",
            "offering",
            "price",
            "currency",
            "transit_days",
            "expires_at",
            "decided_at",
            "decision_note",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BookingDetailOutput(BookingOutput):
    history = BookingStatusChangeOutput(source="status_changes", many=True, read_only=True)

    class Meta(BookingOutput.Meta):
        fields = [*BookingOutput.Meta.fields, "history"]
        read_only_fields = fields
