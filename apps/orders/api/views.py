"""Orders API: the current organization's orders (either party), their lifecycle, warehouses."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ValidationFailed
from apps.core.pagination import paginated_response
from apps.orders import selectors, services
from apps.orders.api import serializers as s
from apps.orders.api.filters import OrderFilter
from apps.orders.models import OrderKind
from apps.tenancy.permissions import HasPermission, current_membership
from apps.tenancy.roles import Grant
from apps.tenancy.selectors import feature_is_active


class OrganizationView(APIView):
    """Acts for the current organization (X-Organization-ID when the user has several)."""

    permission_classes = [IsAuthenticated, HasPermission]

    @property
    def membership(self):
        return current_membership(self.request._request)

    def actor(self) -> services.Actor:
        membership = self.membership
        return services.Actor(
            user_id=self.request.user.id,
            organization_id=membership.organization_id,
            role=membership.role,
            extra_permissions=tuple(membership.extra_permissions),
        )

    def own_customer_id(self):
        """With an `:own` grant, only orders whose customer is the user."""
        grant = getattr(self.request, "permission_grant", Grant.ALL)
        return self.request.user.id if grant is Grant.OWN else None


class OrderListView(OrganizationView):
    required_permissions = {"GET": "order:read"}

    @extend_schema(filters=True, responses=s.OrderListOutput(many=True), summary="The organization's orders")
    def get(self, request):
        queryset = selectors.order_list(
            organization_id=self.membership.organization_id, customer_id=self.own_customer_id()
        )
        filtered = OrderFilter(request.query_params, queryset=queryset, request=request._request)
        if not filtered.is_valid():
            raise ValidationFailed("Some filters are invalid.", details=filtered.errors)
        return paginated_response(self, filtered.qs, s.OrderListOutput)

    # For the schema: the filters of GET /orders.
    filterset_class = OrderFilter


class OrderOptionsView(OrganizationView):
    required_permissions = {"GET": "order:read"}

    @extend_schema(
        responses={
            200: OpenApiResponse(description='{"kinds": [...]}: the kinds of order this organization can start')
        },
        summary="Which orders the organization can start (follows its feature flags)",
    )
    def get(self, request):
        organization_id = self.membership.organization_id
        kinds = [
            kind
            for kind in (OrderKind.ASSISTED_PURCHASE, OrderKind.SELF_PURCHASE)
            if feature_is_active(organization_id=organization_id, name=kind)
        ]
        return Response({"kinds": kinds})


class OrderDetailView(OrganizationView):
    required_permissions = {"GET": "order:read"}

    @extend_schema(responses=s.OrderDetailOutput, summary="One order with its items")
    def get(self, request, order_id):
        order = selectors.order_get(
            organization_id=self.membership.organization_id, order_id=order_id, customer_id=self.own_customer_id()
        )
        return Response(s.OrderDetailOutput(order).data)


class OrderStatusView(OrganizationView):
    required_permissions = {"POST": "order:read"}  # the move itself names the permission it needs

    @extend_schema(
        request=s.StatusInput,
        responses={200: s.OrderDetailOutput, 422: OpenApiResponse(description="INVALID_STATE_TRANSITION")},
        summary="Move the order to another status",
    )
    def post(self, request, order_id):
        data = s.StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_change_status(order_id=order_id, actor=self.actor(), **data.validated_data)
        return Response(s.OrderDetailOutput(self._reread(order)).data)

    def _reread(self, order):
        return selectors.order_get(organization_id=self.membership.organization_id, order_id=order.id)


class OrderCancelView(OrderStatusView):
    @extend_schema(
        request=s.CancelInput,
        responses={200: s.OrderDetailOutput, 422: OpenApiResponse(description="ORDER_CANNOT_BE_CANCELLED")},
        summary="Cancel the order (until it is in transit)",
    )
    def post(self, request, order_id):
        data = s.CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_cancel(order_id=order_id, actor=self.actor(), reason=data.validated_data["reason"])
        return Response(s.OrderDetailOutput(self._reread(order)).data)


class OrderHistoryView(OrganizationView):
    required_permissions = {"GET": "order:read"}

    @extend_schema(responses=s.HistoryOutput(many=True), summary="The order's status history")
    def get(self, request, order_id):
        order = selectors.order_get(
            organization_id=self.membership.organization_id, order_id=order_id, customer_id=self.own_customer_id()
        )
        return paginated_response(self, selectors.order_history(order=order), s.HistoryOutput)


class WarehouseListView(OrganizationView):
    required_permissions = {"GET": "warehouse:read", "POST": "warehouse:create"}

    @extend_schema(responses=s.WarehouseSerializer(many=True), summary="The organization's warehouses")
    def get(self, request):
        return paginated_response(
            self, selectors.warehouse_list(organization_id=self.membership.organization_id), s.WarehouseSerializer
        )

    @extend_schema(request=s.WarehouseSerializer, responses={201: s.WarehouseSerializer}, summary="Add a warehouse")
    def post(self, request):
        data = s.WarehouseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        warehouse = services.warehouse_create(
            organization_id=self.membership.organization_id, actor_id=request.user.id, data=data.validated_data
        )
        return Response(s.WarehouseSerializer(warehouse).data, status=201)


class WarehouseDetailView(OrganizationView):
    required_permissions = {"GET": "warehouse:read", "PATCH": "warehouse:update"}

    @extend_schema(responses=s.WarehouseSerializer, summary="One warehouse")
    def get(self, request, warehouse_id):
        warehouse = selectors.warehouse_get(organization_id=self.membership.organization_id, warehouse_id=warehouse_id)
        return Response(s.WarehouseSerializer(warehouse).data)

    @extend_schema(request=s.WarehouseSerializer, responses=s.WarehouseSerializer, summary="Change a warehouse")
    def patch(self, request, warehouse_id):
        warehouse = selectors.warehouse_get(organization_id=self.membership.organization_id, warehouse_id=warehouse_id)
        data = s.WarehouseSerializer(warehouse, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        warehouse = services.warehouse_update(warehouse=warehouse, actor_id=request.user.id, data=data.validated_data)
        return Response(s.WarehouseSerializer(warehouse).data)
