"""Geofences API: an organization's own areas (owned rows: another's answers 404). Reading
takes tracking:read; drawing, changing and removing them tracking:create/update/delete
(carriers, warehouse managers and admins; a shipper's admin for the shipper)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.core.pagination import paginated_response
from apps.tenancy.api.base import OrganizationEndpoint
from apps.tracking import selectors
from apps.tracking.api import geofence_serializers as s
from apps.tracking.services import geofences as services


class GeofenceListView(OrganizationEndpoint):
    required_permissions = {"GET": "tracking:read", "POST": "tracking:create"}

    @extend_schema(responses=s.GeofenceOutput(many=True), summary="The organization's geofences")
    def get(self, request):
        return paginated_response(self, selectors.geofence_list(organization_id=self.organization_id), s.GeofenceOutput)

    @extend_schema(request=s.GeofenceInput, responses={201: s.GeofenceOutput}, summary="Draw a geofence")
    def post(self, request):
        data = s.GeofenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        geofence = services.geofence_create(actor=self.actor(), data=data.validated_data)
        return Response(s.GeofenceOutput(geofence).data, status=201)


class GeofenceDetailView(OrganizationEndpoint):
    required_permissions = {"GET": "tracking:read", "PATCH": "tracking:update", "DELETE": "tracking:delete"}

    @extend_schema(responses=s.GeofenceOutput, summary="One geofence")
    def get(self, request, geofence_id):
        geofence = selectors.geofence_get(organization_id=self.organization_id, geofence_id=geofence_id)
        return Response(s.GeofenceOutput(geofence).data)

    @extend_schema(request=s.GeofenceInput(partial=True), responses=s.GeofenceOutput, summary="Change a geofence")
    def patch(self, request, geofence_id):
        data = s.GeofenceInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        geofence = services.geofence_update(actor=self.actor(), geofence_id=geofence_id, data=data.validated_data)
        return Response(s.GeofenceOutput(geofence).data)

    @extend_schema(responses={204: None}, summary="Remove a geofence")
    def delete(self, request, geofence_id):
        services.geofence_delete(actor=self.actor(), geofence_id=geofence_id)
        return Response(status=204)
