"""The read API's shapes: a tracked shipment, its events, alerts, ETA and route."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.tracking.routes import WAYPOINT_KINDS


class EventOutput(serializers.Serializer):
    id = serializers.UUIDField()
    event_type = StrictCharField()
    source = StrictCharField()
    occurred_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    address = StrictCharField()
    speed_kmh = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    heading = serializers.IntegerField(allow_null=True)
    temperature_c = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    is_implausible = serializers.BooleanField()
    description = StrictCharField()


class OpenAlertOutput(serializers.Serializer):
    id = serializers.UUIDField()
    alert_type = StrictCharField()
    severity = StrictCharField()
    status = StrictCharField()
    message = StrictCharField()
    created_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class EtaOutput(serializers.Serializer):
    eta_at = serializers.DateTimeField(allow_null=True)
    remaining_distance_m = serializers.IntegerField(allow_null=True)
    promised_at = serializers.DateTimeField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    basis = StrictCharField(
        help_text='"stored": computed by the pipeline at the last batch of pings; otherwise computed now '
        "(recent_speed, default_speed) or why there is none (no_route, no_position)."
    )
    is_late = serializers.BooleanField(help_text="The ETA is past the promised time.")


class PositionOutput(serializers.Serializer):
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    at = serializers.DateTimeField()
    city = StrictCharField()
    country = StrictCharField()


class WaypointOutput(serializers.Serializer):
    kind = StrictCharField()
    latitude = StrictCharField(allow_null=True)
    longitude = StrictCharField(allow_null=True)
    city = StrictCharField(allow_blank=True)
    country = StrictCharField(allow_blank=True)
    name = StrictCharField(allow_blank=True)
    window_from = serializers.DateTimeField(allow_null=True)
    window_until = serializers.DateTimeField(allow_null=True)


class TrackingOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = StrictCharField()
    order_id = serializers.UUIDField(allow_null=True)
    package_id = serializers.UUIDField(allow_null=True)
    reference = StrictCharField()
    tracking_number = StrictCharField()
    status = StrictCharField()
    is_active = serializers.BooleanField()
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    position = serializers.SerializerMethodField()
    last_event_at = serializers.DateTimeField(allow_null=True)
    eta = serializers.SerializerMethodField()
    route = WaypointOutput(many=True)
    corridor_width_m = serializers.IntegerField()
    route_length_m = serializers.IntegerField()
    temperature_min_c = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    temperature_max_c = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    last_events = serializers.SerializerMethodField()
    open_alerts = serializers.SerializerMethodField()

    @extend_schema_field(PositionOutput(allow_null=True))
    def get_position(self, shipment):
        if shipment.last_latitude is None or shipment.last_longitude is None:
            return None
        return PositionOutput(
            {
                "latitude": shipment.last_latitude,
                "longitude": shipment.last_longitude,
                "at": shipment.last_position_at,
                "city": shipment.last_city,
                "country": shipment.last_country,
            }
        ).data

    @extend_schema_field(EtaOutput)
    def get_eta(self, shipment):
        return EtaOutput(self.context["eta"]).data

    @extend_schema_field(EventOutput(many=True))
    def get_last_events(self, shipment):
        return EventOutput(self.context["last_events"], many=True).data

    @extend_schema_field(OpenAlertOutput(many=True))
    def get_open_alerts(self, shipment):
        return OpenAlertOutput(self.context["open_alerts"], many=True).data


class RouteOutput(serializers.Serializer):
    """A GeoJSON FeatureCollection (RFC 7946): the planned route (LineString, `role`
    planned_route), its waypoints (Points, `role` waypoint) and the travelled track (LineString,
    `role` track, simplified for long tracks)."""

    type = StrictCharField()
    features = serializers.ListField(child=serializers.DictField())


class WaypointInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=WAYPOINT_KINDS)
    latitude = serializers.DecimalField(
        max_digits=8, decimal_places=6, min_value=Decimal(-90), max_value=Decimal(90), required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-180), max_value=Decimal(180), required=False, allow_null=True
    )
    city = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    country = StrictCharField(max_length=2, required=False, allow_blank=True, default="")
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    window_from = serializers.DateTimeField(required=False, allow_null=True)
    window_until = serializers.DateTimeField(required=False, allow_null=True)

    def validate(self, attrs):
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError({"longitude": ["Give both latitude and longitude, or neither."]})
        if attrs.get("window_from") and attrs.get("window_until") and attrs["window_until"] < attrs["window_from"]:
            raise serializers.ValidationError({"window_until": ["The window ends before it begins."]})
        return attrs


class RoutePlanInput(serializers.Serializer):
    waypoints = WaypointInput(many=True, min_length=2, max_length=100)
    corridor_width_m = serializers.IntegerField(required=False, help_text="From 100 to 50,000 m.")


class RoutePlanOutput(serializers.Serializer):
    waypoints = WaypointOutput(many=True, source="route")
    corridor_width_m = serializers.IntegerField()
    route_length_m = serializers.IntegerField()
    promised_at = serializers.DateTimeField(allow_null=True)
