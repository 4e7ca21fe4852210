"""Orders API: the current organization's orders (either party), their lifecycle, warehouses."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.api.filtering import filter_queryset
from apps.core.pagination import paginated_response
from apps.core.parsers import StrictJSONParser, StrictMultiPartParser
from apps.orders import selectors, services
from apps.orders.api import serializers as s
from apps.orders.api import shipment_serializers
from apps.orders.api.filters import OrderFilter
from apps.orders.models import OrderKind
from apps.tenancy.api.base import OrganizationEndpoint
from apps.tenancy.selectors import feature_is_active


class OrganizationView(OrganizationEndpoint):
    """Orders act for the current organization, as an Actor the services check."""

    def warehouse_scope(self) -> dict:
        """The warehouses the user may see: all of the organization's, or (warehouse staff)
        those they are assigned to."""
        return {
            "organization_id": self.membership.organization_id,
            "user": self.request.user,
            "role": self.membership.role,
        }

    def order_customer_id(self) -> UUID | None:
        """The customer the orders (and what hangs from them) are limited to for this method's
        permission; None: every order of the organization (`selectors.order_scope`)."""
        permission = self.method_permission
        return selectors.order_scope(actor=self.actor(), permission=permission).customer_id


class OrderListView(OrganizationView):
    required_permissions = {"GET": "order:read"}

    @extend_schema(filters=True, responses=s.OrderListOutput(many=True), summary="The organization's orders")
    def get(self, request):
        queryset = selectors.order_list(
            organization_id=self.membership.organization_id, customer_id=self.order_customer_id()
        )
        return paginated_response(self, filter_queryset(OrderFilter, request, queryset), s.OrderListOutput)

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
            organization_id=self.membership.organization_id, order_id=order_id, customer_id=self.order_customer_id()
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
            organization_id=self.membership.organization_id, order_id=order_id, customer_id=self.order_customer_id()
        )
        return paginated_response(self, selectors.order_history(order=order), s.HistoryOutput)


class OrderShipmentView(OrganizationView):
    # PATCH: the service checks the side's own permission (order:create for the shipper's
    # part, order:update for the carrier's), as the status moves do.
    required_permissions = {"GET": "order:read", "PATCH": "order:read"}
    parser_classes = [StrictJSONParser]

    def _detail(self, order_id, customer_id=None):
        shipment = selectors.shipment_get(
            organization_id=self.membership.organization_id, order_id=order_id, customer_id=customer_id
        )
        return shipment_serializers.ShipmentOutput(shipment).data

    @extend_schema(responses=shipment_serializers.ShipmentOutput, summary="The freight order's shipment")
    def get(self, request, order_id):
        return Response(self._detail(order_id, self.order_customer_id()))

    @extend_schema(
        request=shipment_serializers.ShipmentData,
        responses={
            200: shipment_serializers.ShipmentOutput,
            403: OpenApiResponse(description="RBAC_PERMISSION_DENIED: a field of the other side's part (in details)"),
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: the order is completed or cancelled"),
        },
        summary="Change the shipment: the shipper its parties, places, cargo and instructions, "
        "the carrier its part; after loading each change is an amendment",
    )
    def patch(self, request, order_id):
        customer_id = self.order_customer_id()  # a role that cannot read orders is refused first
        services.shipment_update(actor=self.actor(), order_id=order_id, changes=request.data)
        return Response(self._detail(order_id, customer_id))


class WarehouseListView(OrganizationView):
    required_permissions = {"GET": "warehouse:read", "POST": "warehouse:create"}

    @extend_schema(responses=s.WarehouseSerializer(many=True), summary="The organization's warehouses")
    def get(self, request):
        return paginated_response(self, selectors.warehouse_list(**self.warehouse_scope()), s.WarehouseSerializer)

    @extend_schema(request=s.WarehouseSerializer, responses={201: s.WarehouseSerializer}, summary="Add a warehouse")
    def post(self, request):
        data = s.WarehouseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        warehouse = services.warehouse_create(
            actor=self.actor(), organization_id=self.membership.organization_id, data=data.validated_data
        )
        return Response(s.WarehouseSerializer(warehouse).data, status=201)


class WarehouseDetailView(OrganizationView):
    required_permissions = {"GET": "warehouse:read", "PATCH": "warehouse:update"}

    @extend_schema(responses=s.WarehouseSerializer, summary="One warehouse")
    def get(self, request, warehouse_id):
        warehouse = selectors.warehouse_get(warehouse_id=warehouse_id, **self.warehouse_scope())
        return Response(s.WarehouseSerializer(warehouse).data)

    @extend_schema(request=s.WarehouseSerializer, responses=s.WarehouseSerializer, summary="Change a warehouse")
    def patch(self, request, warehouse_id):
        warehouse = selectors.warehouse_get(warehouse_id=warehouse_id, **self.warehouse_scope())
        data = s.WarehouseSerializer(warehouse, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        warehouse = services.warehouse_update(actor=self.actor(), warehouse=warehouse, data=data.validated_data)
        return Response(s.WarehouseSerializer(warehouse).data)


def _upload(file) -> services.Upload:
    return services.Upload(name=file.name or "", data=file.read(), content_type=file.content_type)


def _forwarding_detail(view: OrganizationView, order) -> dict:
    order = selectors.order_get(organization_id=view.membership.organization_id, order_id=order.id)
    return s.ForwardingDetailOutput(order).data


class AssistedPurchaseView(OrganizationView):
    required_permissions = {"POST": "order:create"}
    required_feature = "assisted_purchase"
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=s.AssistedPurchaseInput,
        responses={201: s.AssistedPurchaseOutput},
        summary="Ask the forwarder to buy a product (feature assisted_purchase)",
    )
    def post(self, request):
        data = s.AssistedPurchaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.assisted_purchase_create(actor=self.actor(), **data.validated_data)
        assigned = result.purchase_agent_id is not None
        body = {
            "order": _forwarding_detail(self, result.order),
            "product": s.ProductOutput(result.product).data,
            "purchase_agent_assigned": assigned,
            "message": "A purchase agent will quote the price."
            if assigned
            else "No purchase agent is available: the request waits unassigned until one is.",
        }
        return Response(body, status=201)


class OrderQuoteView(OrganizationView):
    required_permissions = {"POST": "order:read"}  # the service checks purchase:update or order:update
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=s.QuoteInput,
        responses={200: s.ForwardingDetailOutput},
        summary="Quote an assisted purchase: the price per piece (requested → quoted)",
    )
    def post(self, request, order_id):
        data = s.QuoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_quote(order_id=order_id, actor=self.actor(), **data.validated_data)
        return Response(_forwarding_detail(self, order))


class OrderPurchaseView(OrganizationView):
    required_permissions = {"POST": "order:read"}  # the move names the permission it needs
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=s.PurchaseInput,
        responses={200: s.ForwardingDetailOutput},
        summary="Record that an assisted purchase was bought, with the shop's tracking number (paid → purchased)",
    )
    def post(self, request, order_id):
        data = s.PurchaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_record_purchase(order_id=order_id, actor=self.actor(), **data.validated_data)
        return Response(_forwarding_detail(self, order))


class SelfPurchaseView(OrganizationView):
    required_permissions = {"POST": "order:create"}
    required_feature = "self_purchase"
    parser_classes = [StrictMultiPartParser]

    @extend_schema(
        request={"multipart/form-data": s.SelfPurchaseInput},
        responses={201: s.ForwardingDetailOutput},
        summary="Announce goods you bought and ship to the forwarder (feature self_purchase)",
    )
    def post(self, request):
        data = s.SelfPurchaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        order = services.self_purchase_create(actor=self.actor(), invoice=_upload(values.pop("invoice")), **values)
        return Response(_forwarding_detail(self, order), status=201)


class WarehouseReceiveView(OrganizationView):
    required_permissions = {"POST": "package:receive"}
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=s.ReceiveInput,
        responses={
            201: OpenApiResponse(s.ReceiveOutput, description="matched: a package was made and the order moved on"),
            200: OpenApiResponse(s.ReceiveOutput, description="already_received: nothing changed"),
            202: OpenApiResponse(s.ReceiveOutput, description="unmatched: kept as an unmatched arrival for staff"),
        },
        summary="Receive a parcel at this warehouse by its tracking number",
    )
    def post(self, request, warehouse_id):
        warehouse = selectors.warehouse_get(warehouse_id=warehouse_id, **self.warehouse_scope())
        data = s.ReceiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        dimensions = data.validated_data["dimensions_cm"]
        result = services.warehouse_receive(
            warehouse=warehouse,
            actor=self.actor(),
            tracking_number=data.validated_data["tracking_number"],
            measurements=services.Measurements(
                weight_g=data.validated_data["weight_g"],
                length_cm=dimensions["length"],
                width_cm=dimensions["width"],
                height_cm=dimensions["height"],
            ),
        )
        status = {"matched": 201, "already_received": 200, "unmatched": 202}[result.outcome]
        return Response(s.ReceiveOutput(result).data, status=status)


class WarehouseStaffView(OrganizationView):
    required_permissions = {"POST": "member:update"}
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=s.StaffAssignInput,
        responses={204: None},
        summary="Assign a warehouse staff member to this warehouse (org admins)",
    )
    def post(self, request, warehouse_id):
        warehouse = selectors.warehouse_get(warehouse_id=warehouse_id, **self.warehouse_scope())
        data = s.StaffAssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.warehouse_assign_staff(actor=self.actor(), warehouse=warehouse, user_id=data.validated_data["user_id"])
        return Response(status=204)


class UnmatchedArrivalListView(OrganizationView):
    required_permissions = {"GET": "package:read"}

    @extend_schema(responses=s.UnmatchedArrivalOutput(many=True), summary="Parcels received that no order expected")
    def get(self, request):
        arrivals = selectors.unmatched_arrival_list(organization_id=self.membership.organization_id)
        return paginated_response(self, arrivals, s.UnmatchedArrivalOutput)


class PackageListView(OrganizationView):
    required_permissions = {"GET": "order:read"}

    @extend_schema(responses=s.PackageOutput(many=True), summary="Packages of the organization's orders")
    def get(self, request):
        packages = selectors.package_list(
            organization_id=self.membership.organization_id, customer_id=self.order_customer_id()
        )
        return paginated_response(self, packages, s.PackageOutput)


class PackageDetailView(OrganizationView):
    required_permissions = {"GET": "order:read"}

    @extend_schema(responses=s.PackageOutput, summary="One package")
    def get(self, request, package_id):
        package = selectors.package_get(
            organization_id=self.membership.organization_id, package_id=package_id, customer_id=self.order_customer_id()
        )
        return Response(s.PackageOutput(package).data)


class PackageStatusView(OrganizationView):
    required_permissions = {"POST": "package:update"}

    @extend_schema(
        request=s.PackageStatusInput,
        responses={200: s.PackageOutput, 422: OpenApiResponse(description="INVALID_STATE_TRANSITION")},
        summary="Move a package on: in transit, out for delivery, delivered",
    )
    def post(self, request, package_id):
        data = s.PackageStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        package = services.package_change_status(
            package_id=package_id, actor=self.actor(), user=request.user, **data.validated_data
        )
        return Response(
            s.PackageOutput(
                selectors.package_get(organization_id=self.membership.organization_id, package_id=package.id)
            ).data
        )


class ReturnView(OrganizationView):
    def _detail(self, return_id):
        order_return = selectors.return_get(organization_id=self.membership.organization_id, return_id=return_id)
        return s.ReturnOutput(order_return).data


class ReturnListView(ReturnView):
    required_permissions = {"GET": "return:read", "POST": "return:create"}
    parser_classes = [StrictMultiPartParser, StrictJSONParser]

    @extend_schema(responses=s.ReturnOutput(many=True), summary="Returns of the organization's orders")
    def get(self, request):
        returns = selectors.return_list(
            organization_id=self.membership.organization_id, customer_id=self.order_customer_id()
        )
        return paginated_response(self, returns, s.ReturnOutput)

    @extend_schema(
        request={"multipart/form-data": s.ReturnCreateInput, "application/json": s.ReturnCreateInput},
        responses={201: s.ReturnOutput},
        summary="Ask to return items of a delivered order, with photos",
    )
    def post(self, request):
        data = s.ReturnCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        order_return = services.return_request(
            actor=self.actor(),
            order_id=values["order"],
            reason=values["reason"],
            items=[
                services.ReturnItemInput(order_item_id=item["order_item"], quantity=item["quantity"])
                for item in values["items"]
            ],
            photos=[_upload(photo) for photo in values["photos"]],
        )
        return Response(self._detail(order_return.id), status=201)


class ReturnDetailView(ReturnView):
    required_permissions = {"GET": "return:read"}

    @extend_schema(responses=s.ReturnOutput, summary="One return")
    def get(self, request, return_id):
        order_return = selectors.return_get(
            organization_id=self.membership.organization_id, return_id=return_id, customer_id=self.order_customer_id()
        )
        return Response(s.ReturnOutput(order_return).data)


class ReturnStatusView(ReturnView):
    required_permissions = {"POST": "return:read"}  # the move names the permission it needs
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=s.ReturnStatusInput,
        responses={200: s.ReturnOutput},
        summary="Approve, reject (with the reason in note), mark received or refunded",
    )
    def post(self, request, return_id):
        data = s.ReturnStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_change_status(return_id=return_id, actor=self.actor(), **data.validated_data)
        return Response(self._detail(return_id))
