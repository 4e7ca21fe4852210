"""Geofences in the API: a circle (center and radius) or a polygon ([latitude, longitude]
points; the ring is closed for you), optionally around one of the organization's warehouses."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.tracking.models import GeofenceShape

LATITUDE = {"max_digits": 8, "decimal_places": 6, "min_value": Decimal(-90), "max_value": Decimal(90)}
LONGITUDE = {"max_digits": 9, "decimal_places": 6, "min_value": Decimal(-180), "max_value": Decimal(180)}


class GeofenceInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    shape = serializers.ChoiceField(choices=GeofenceShape.choices)
    center_latitude = serializers.DecimalField(**LATITUDE, required=False, allow_null=True)
    center_longitude = serializers.DecimalField(**LONGITUDE, required=False, allow_null=True)
    radius_m = serializers.IntegerField(required=False, allow_null=True, help_text="A circle's: 50 to 100,000 m.")
    polygon = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        max_length=501,
        help_text="A polygon's ring of [latitude, longitude]: at least 3 distinct points, closed for you.",
    )
    warehouse_id = serializers.UUIDField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    alert_on_enter = serializers.BooleanField(
        required=False, help_text="Goods entering it raise a geofence alert, resolved when they leave."
    )


class GeofenceOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = StrictCharField()
    shape = StrictCharField()
    center_latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    center_longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    radius_m = serializers.IntegerField(allow_null=True)
    polygon = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))
    warehouse_id = serializers.UUIDField(allow_null=True)
    is_active = serializers.BooleanField()
    alert_on_enter = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
