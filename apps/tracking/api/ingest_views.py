"""Ingest API: events from devices (their key) and people (their token), a driver's location."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.core.errors import ErrorCode, PermissionDenied, ValidationFailed
from apps.tenancy.api.base import OrganizationEndpoint
from apps.tracking import selectors_ingest as selectors
from apps.tracking.api import ingest_serializers as s
from apps.tracking.device_auth import DeviceKeyAuthentication, DeviceOrMember, is_device
from apps.tracking.models import EventSource, EventType
from apps.tracking.services import ingest

SUBJECT_KEYS = ("order_id", "package_id")


def _rows(body) -> list:
    """The rows of a body: its `events` list, or the body itself as one row."""
    if not isinstance(body, dict):
        raise ValidationFailed(
            'Send an object: {"events": [...]} or one event.', details={"events": ["Expected an object."]}
        )
    if "events" not in body:
        return [body]
    rows = body["events"]
    if not isinstance(rows, list):
        raise ValidationFailed("`events` must be a list.", details={"events": ["Expected a list of events."]})
    limit = settings.TRACKING["MAX_BATCH"]
    if not rows:
        raise ValidationFailed(
            "The batch is empty.", code=ErrorCode.VALIDATION_FIELD_REQUIRED, details={"events": ["At least one event."]}
        )
    if len(rows) > limit:
        raise ValidationFailed(
            f"At most {limit} events per batch.", details={"events": [f"{len(rows)} events; at most {limit}."]}
        )
    return rows


def _answer(result: ingest.IngestResult, rows: list) -> Response:
    if result.rejected and len(result.rejected) == len(rows):
        raise ValidationFailed("No event of the batch could be taken.", details={"rejected": result.rejected})
    body = {"stored": len(result.stored), "duplicates": result.duplicates, "rejected": result.rejected}
    return Response(body, status=201)


class EventIngestView(OrganizationEndpoint):
    # The one endpoint a device key opens (apps/tracking/device_auth.py); a user's token too.
    authentication_classes = [DeviceKeyAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [IsAuthenticated, DeviceOrMember]
    required_permissions = {"POST": "tracking:create"}

    @extend_schema(
        request=s.EventBatchInput,
        responses={
            201: s.IngestOutput,
            400: OpenApiResponse(description="Not a list, over the limit, or every row refused (details.rejected)"),
            404: OpenApiResponse(description="NOT_FOUND: the order or package is not one of yours, or not tracked"),
            422: OpenApiResponse(description="Tracking of the shipment has ended"),
        },
        summary="Record tracking events: a device's batch (Authorization: Device <key>), or a user's events "
        "of one order or package",
    )
    def post(self, request):
        body = request.data
        if is_device(request.user):
            rows = _rows(body)
            result = ingest.device_events_record(device_id=request.user.device_id, rows=rows)
            return _answer(result, rows)
        subject, body = _subject(body)
        rows = _rows(body)
        shipment = selectors.tracked_shipment_of(organization_id=self.organization_id, **subject)
        result = ingest.events_record(shipment=shipment, rows=rows, source=EventSource.MANUAL, actor=self.actor())
        return _answer(result, rows)


def _subject(body) -> tuple[dict, dict]:
    """({"order_id": UUID} or {"package_id": UUID}, the body without it); 400 when the body
    names neither or both."""
    if not isinstance(body, dict):
        return {}, body  # _rows refuses it
    body = dict(body)
    named = {key: body.pop(key) for key in SUBJECT_KEYS if key in body}
    if len(named) != 1:
        raise ValidationFailed(
            "Name the order or the package the events are of (one of them).",
            code=ErrorCode.VALIDATION_FIELD_REQUIRED,
            details={"order_id": ["Give order_id or package_id."]},
        )
    ((key, value),) = named.items()
    try:
        return {key: UUID(str(value))}, body
    except ValueError:
        raise ValidationFailed(f"{key} must be a UUID.", details={key: ["Not a valid UUID."]}) from None


class LocationView(OrganizationEndpoint):
    """One location update from a driver's app: the carrier's side reports where it is."""

    required_permissions = {"POST": "tracking:create"}
    subject_kwarg = ""

    @extend_schema(
        request=s.EventRowInput,
        responses={
            201: s.LocationOutput,
            400: OpenApiResponse(description="VALIDATION_FIELD_INVALID: the row's errors by field"),
            403: OpenApiResponse(description="RBAC_PERMISSION_DENIED: only the carrier's side reports its location"),
            404: OpenApiResponse(description="NOT_FOUND"),
        },
        summary="Report where the goods are now (a driver's app)",
    )
    def post(self, request, **kwargs):
        row = request.data
        if isinstance(row, dict) and row.get("event_type", EventType.LOCATION_UPDATE) != EventType.LOCATION_UPDATE:
            raise ValidationFailed("Only a location update here.", details={"event_type": ["Must be location_update."]})
        shipment = selectors.tracked_shipment_of(
            organization_id=self.organization_id, **{self.subject_kwarg: kwargs[self.subject_kwarg]}
        )
        if shipment.supplier_organization_id != self.organization_id:
            raise PermissionDenied("Only the carrier's side reports the goods' location.")
        result = ingest.events_record(shipment=shipment, rows=[row], source=EventSource.DRIVER_APP, actor=self.actor())
        if result.rejected:
            raise ValidationFailed("The location update was refused.", details=result.rejected[0]["errors"])
        # Without a device there are no duplicates: a valid row is stored.
        return Response(s.LocationOutput(result.stored[0]).data, status=201)


class OrderLocationView(LocationView):
    subject_kwarg = "order_id"


class PackageLocationView(LocationView):
    subject_kwarg = "package_id"
