"""Devices API: an organization's telematics devices, their keys and their assignments."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.pagination import paginated_response
from apps.tenancy.api.base import OrganizationEndpoint
from apps.tracking import selectors_ingest as selectors
from apps.tracking.api import ingest_serializers as s
from apps.tracking.services import devices as services

# Reading devices is tracking:read; registering, revoking and assigning them hand out or take
# back the right to write a shipment's events: tracking:update (carriers, org admins,
# warehouse managers; not the staff who only record scans).
READ, MANAGE = "tracking:read", "tracking:update"


class DeviceView(OrganizationEndpoint):
    def device(self, device_id):
        return selectors.device_get(
            organization_id=self.organization_id, device_id=device_id, created_by_id=self.own_customer_id()
        )


class DeviceListView(DeviceView):
    required_permissions = {"GET": READ, "POST": MANAGE}

    @extend_schema(responses=s.DeviceOutput(many=True), summary="The organization's devices")
    def get(self, request):
        queryset = selectors.device_list(organization_id=self.organization_id, created_by_id=self.own_customer_id())
        return paginated_response(self, queryset, s.DeviceOutput)

    @extend_schema(
        request=s.DeviceInput,
        responses={201: s.DeviceCreatedOutput},
        summary="Register a device: its key is in this answer, and only here",
    )
    def post(self, request):
        data = s.DeviceInput(data=request.data)
        data.is_valid(raise_exception=True)
        device, key = services.device_register(actor=self.actor(), **data.validated_data)
        return Response(s.DeviceCreatedOutput(device, context={"key": key}).data, status=201)


class DeviceDetailView(DeviceView):
    required_permissions = {"GET": READ}

    @extend_schema(responses=s.DeviceOutput, summary="One device (never its key)")
    def get(self, request, device_id):
        return Response(s.DeviceOutput(self.device(device_id)).data)


class DeviceRevokeView(DeviceView):
    required_permissions = {"POST": MANAGE}

    @extend_schema(request=None, responses=s.DeviceOutput, summary="Revoke the device's key (at once, for good)")
    def post(self, request, device_id):
        device = services.device_revoke(actor=self.actor(), device_id=device_id)
        return Response(s.DeviceOutput(device).data)


class AssignmentListView(DeviceView):
    required_permissions = {"GET": READ, "POST": MANAGE}

    @extend_schema(responses=s.AssignmentOutput(many=True), summary="The device's assignments, latest first")
    def get(self, request, device_id):
        return paginated_response(self, selectors.assignment_list(device=self.device(device_id)), s.AssignmentOutput)

    @extend_schema(
        request=s.AssignmentInput,
        responses={
            201: s.AssignmentOutput,
            404: OpenApiResponse(description="NOT_FOUND: the device, or a shipment you are no party of"),
            422: OpenApiResponse(description="The window overlaps another of the device's, or the device is revoked"),
        },
        summary="Assign the device to a shipment for a time window",
    )
    def post(self, request, device_id):
        data = s.AssignmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        shipment_id = values.get("shipment_id")
        if shipment_id is None:
            subject = {key: values[key] for key in ("order_id", "package_id") if values.get(key)}
            shipment_id = selectors.tracked_shipment_of(organization_id=self.organization_id, **subject).id
        assignment = services.device_assign(
            actor=self.actor(),
            device_id=device_id,
            shipment_id=shipment_id,
            valid_from=values.get("valid_from"),
            valid_until=values.get("valid_until"),
        )
        return Response(s.AssignmentOutput(assignment).data, status=201)


class AssignmentEndView(DeviceView):
    required_permissions = {"POST": MANAGE}

    @extend_schema(
        request=None,
        responses={200: s.AssignmentOutput, 204: OpenApiResponse(description="It had not started: withdrawn")},
        summary="End the assignment now",
    )
    def post(self, request, device_id, assignment_id):
        assignment = services.device_unassign(actor=self.actor(), device_id=device_id, assignment_id=assignment_id)
        if assignment is None:
            return Response(status=204)
        return Response(s.AssignmentOutput(assignment).data)
