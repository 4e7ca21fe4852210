"""Platform integrations API: an organization's shops (connect, change, sync now, register webhooks,
the sync log), what the syncs found (quarantine, probable duplicates, billing records) and its
platform orders (each with its billing records and fulfilment pushes; shipping one pushes the
fulfilment back to its platform).

Permissions (apps/tenancy/roles.py): reads need integration:read, changes integration:manage
(org admins hold both), shipping order:update; the organization needs `platform_integrations` on.
Another organization's shop or platform order is 404. Credentials are write-only: answers show
their field names, masked (`credentials`), never a value.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.api.filtering import filter_queryset
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import paginated_response
from apps.core.parsers import StrictJSONParser
from apps.integrations import selectors, services
from apps.integrations.api import serializers as s
from apps.integrations.api.filters import BillingRecordFilter, DuplicateFilter, PlatformOrderFilter, QuarantineFilter
from apps.integrations.models import BillingKind, DuplicateStatus, Platform
from apps.tenancy.api.base import OrganizationEndpoint

FEATURE = "platform_integrations"
READ, MANAGE = "integration:read", "integration:manage"

NO_SHOP = OpenApiResponse(description="NOT_FOUND: no such shop (platform configuration) of your organization's")
NO_ORDER = OpenApiResponse(description="NOT_FOUND: no platform order of your organization's is bound to this order")
PLATFORM_AWAY = OpenApiResponse(
    description="EXTERNAL_SERVICE_UNAVAILABLE: the platform did not answer (nothing was changed); try again later"
)

# The lists' filters (api/filters.py), documented: an APIView's filterset is not introspected.
SHOP_FILTER = OpenApiParameter("configuration", OpenApiTypes.UUID, description="The shop (configuration id)")
QUARANTINE_FILTERS = [
    SHOP_FILTER,
    OpenApiParameter("released", bool, description="true: imported since (a later read was sound); false: still held"),
]
DUPLICATE_FILTERS = [OpenApiParameter("status", str, enum=DuplicateStatus.values)]
BILLING_FILTERS = [
    OpenApiParameter("order_id", OpenApiTypes.UUID, description="Our order"),
    OpenApiParameter("kind", str, enum=BillingKind.values),
]
PLATFORM_ORDER_FILTERS = [
    OpenApiParameter("platform", str, enum=Platform.values),
    SHOP_FILTER,
    OpenApiParameter("external_id", str, description="The platform's order id"),
]


class IntegrationEndpoint(OrganizationEndpoint):
    """Acts for the caller's organization, with platform integrations on."""

    required_feature = FEATURE
    parser_classes = [StrictJSONParser]


# --- Shops --------------------------------------------------------------------------------------


class ConfigurationView(IntegrationEndpoint):
    def configuration_body(self, configuration_id) -> dict:
        configuration = selectors.configuration_get(
            organization_id=self.organization_id, configuration_id=configuration_id
        )
        return s.ConfigurationOutput(configuration).data


class ConfigurationListView(ConfigurationView):
    required_permissions = {"GET": READ, "POST": MANAGE}

    @extend_schema(
        responses=s.ConfigurationOutput(many=True),
        summary="Your organization's connected shops, newest first, with their sync health",
    )
    def get(self, request):
        return paginated_response(
            self, selectors.configuration_list(organization_id=self.organization_id), s.ConfigurationOutput
        )

    @extend_schema(
        request=s.ConfigurationCreateInput,
        responses={
            201: s.ConfigurationOutput,
            400: OpenApiResponse(
                description="Invalid or missing fields, credentials the platform refused, or a shop connected "
                "already (nothing is created)"
            ),
            503: PLATFORM_AWAY,
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Connect a shop: its credentials are checked against the platform, then kept encrypted; the "
        "first sync is due at once",
    )
    @idempotent
    def post(self, request):
        data = s.ConfigurationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        configuration = services.configuration_connect(actor=self.actor(), **data.validated_data)
        return Response(s.ConfigurationOutput(configuration).data, status=201)


class ConfigurationDetailView(ConfigurationView):
    required_permissions = {"GET": READ, "PATCH": MANAGE}

    @extend_schema(responses={200: s.ConfigurationOutput, 404: NO_SHOP}, summary="A connected shop and its health")
    def get(self, request, configuration_id):
        return Response(self.configuration_body(configuration_id))

    @extend_schema(
        request=s.ConfigurationUpdateInput,
        responses={
            200: s.ConfigurationOutput,
            400: OpenApiResponse(description="Invalid fields, or new credentials the platform refused"),
            404: NO_SHOP,
            503: PLATFORM_AWAY,
        },
        summary="Rename a shop, change its sync interval, pause or resume it, or give it new credentials "
        "(checked against the platform first)",
    )
    def patch(self, request, configuration_id):
        data = s.ConfigurationUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.configuration_update(actor=self.actor(), configuration_id=configuration_id, **data.validated_data)
        return Response(self.configuration_body(configuration_id))


class ConfigurationSyncView(ConfigurationView):
    required_permissions = {"POST": MANAGE}

    @extend_schema(
        request=None,
        responses={
            202: s.ConfigurationOutput,
            404: NO_SHOP,
            422: OpenApiResponse(description="VALIDATION_CONSTRAINT_VIOLATION: the shop is deactivated"),
        },
        summary="Sync now: a run is queued at once (a paused shop too: the run is its trial); the sync log shows it",
    )
    def post(self, request, configuration_id):
        configuration = services.configuration_sync_now(actor=self.actor(), configuration_id=configuration_id)
        return Response(s.ConfigurationOutput(configuration).data, status=202)


class ConfigurationWebhooksView(ConfigurationView):
    required_permissions = {"POST": MANAGE}

    @extend_schema(
        request=None,
        responses={200: s.ConfigurationOutput, 404: NO_SHOP, 503: PLATFORM_AWAY},
        summary="Subscribe the shop's order webhooks to Manifest (where the platform's API allows it)",
    )
    def post(self, request, configuration_id):
        services.configuration_register_webhooks(actor=self.actor(), configuration_id=configuration_id)
        return Response(self.configuration_body(configuration_id))


class SyncRunListView(IntegrationEndpoint):
    required_permissions = {"GET": READ}

    @extend_schema(
        responses={200: s.SyncRunOutput(many=True), 404: NO_SHOP},
        summary="The shop's sync log, newest run first: window, pages, orders fetched, created, updated, "
        "unchanged, quarantined, retries, error",
    )
    def get(self, request, configuration_id):
        runs = selectors.sync_run_list(organization_id=self.organization_id, configuration_id=configuration_id)
        return paginated_response(self, runs, s.SyncRunOutput)


# --- What the syncs found -----------------------------------------------------------------------


class QuarantineListView(IntegrationEndpoint):
    required_permissions = {"GET": READ}
    filterset_class = QuarantineFilter

    @extend_schema(
        parameters=QUARANTINE_FILTERS,
        responses=s.QuarantinedOrderOutput(many=True),
        summary="Platform orders that could not be imported as they are, with the reason (released once a "
        "later read is sound)",
    )
    def get(self, request):
        rows = selectors.quarantine_list(organization_id=self.organization_id)
        return paginated_response(self, filter_queryset(QuarantineFilter, request, rows), s.QuarantinedOrderOutput)


class DuplicateListView(IntegrationEndpoint):
    required_permissions = {"GET": READ}
    filterset_class = DuplicateFilter

    @extend_schema(
        parameters=DUPLICATE_FILTERS,
        responses=s.DuplicateFlagOutput(many=True),
        summary="Probable duplicates across platforms (the same customer, items and amount within a window), "
        "newest first; platform staff review them, nothing is merged",
    )
    def get(self, request):
        rows = selectors.duplicate_list(organization_id=self.organization_id)
        return paginated_response(self, filter_queryset(DuplicateFilter, request, rows), s.DuplicateFlagOutput)


class BillingRecordListView(IntegrationEndpoint):
    required_permissions = {"GET": READ}
    filterset_class = BillingRecordFilter

    @extend_schema(
        parameters=BILLING_FILTERS,
        responses=s.BillingRecordOutput(many=True),
        summary="Invoices, payments and refunds of platform orders, newest first",
    )
    def get(self, request):
        rows = selectors.billing_record_list(organization_id=self.organization_id)
        return paginated_response(self, filter_queryset(BillingRecordFilter, request, rows), s.BillingRecordOutput)


# --- Platform orders ----------------------------------------------------------------------------


class PlatformOrderListView(IntegrationEndpoint):
    required_permissions = {"GET": READ}
    filterset_class = PlatformOrderFilter

    @extend_schema(
        parameters=PLATFORM_ORDER_FILTERS,
        responses=s.PlatformOrderOutput(many=True),
        summary="Platform orders bound to your orders, newest on the platform first",
    )
    def get(self, request):
        rows = selectors.platform_order_list(organization_id=self.organization_id)
        return paginated_response(self, filter_queryset(PlatformOrderFilter, request, rows), s.PlatformOrderOutput)


class PlatformOrderView(IntegrationEndpoint):
    def platform_order_body(self, order_id) -> dict:
        link = selectors.platform_order_get(organization_id=self.organization_id, order_id=order_id)
        return s.PlatformOrderDetailOutput(link).data


class PlatformOrderDetailView(PlatformOrderView):
    required_permissions = {"GET": READ}

    @extend_schema(
        responses={200: s.PlatformOrderDetailOutput, 404: NO_ORDER},
        summary="The platform order bound to one of your orders (by our order id), with its billing records and "
        "fulfilment pushes",
    )
    def get(self, request, order_id):
        return Response(self.platform_order_body(order_id))


class PlatformOrderShipView(PlatformOrderView):
    required_permissions = {"POST": "order:update"}

    @extend_schema(
        request=s.ShipInput,
        responses={
            200: s.PlatformOrderDetailOutput,
            400: OpenApiResponse(description="The tracking number or the carrier is missing or invalid"),
            404: NO_ORDER,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: the order cannot ship from its status"),
        },
        summary="Ship a platform order: it moves to in_transit and its fulfilment (tracking number, carrier) is "
        "pushed back to the platform, retried until the platform takes it",
    )
    def post(self, request, order_id):
        data = s.ShipInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.platform_order_ship(actor=self.actor(), order_id=order_id, **data.validated_data)
        return Response(self.platform_order_body(order_id))
