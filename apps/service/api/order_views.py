"""Service orders API, for both sides of an order: the customer organization asks for the work,
corrects it, assigns an expert (or lets the live offers find one), cancels it, and reads the
scored candidates; the expert who holds it (or was offered it live) accepts or declines, starts
and completes it with the customer's sign-off.

Roles (apps/tenancy/roles.py): dispatchers (service_order:*) act for the organization; a
customer reads, corrects and cancels the orders they asked for (`:own`); an expert reads and
works the orders they hold (service_order:read:own, service_order:work:own). An order is read by
the two organizations it is shared by (the customer's, and the expert's once an expert holds
it): any other gets 404, and an expert offered it live sees only the offer's summary
(GET /experts/{id}/matches) until they take it.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.response import Response

from apps.core.api.downloads import OpenedFile, SignedFileView
from apps.core.api.filtering import filter_queryset
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import paginated_response
from apps.core.parsers import StrictJSONParser, StrictMultiPartParser
from apps.core.uploads import EXTENSIONS_BY_CONTENT_TYPE
from apps.service import selectors, services
from apps.service.api import order_serializers as s
from apps.service.api.expert_serializers import download_max_age
from apps.service.api.expert_views import ServiceEndpoint, upload_of
from apps.service.api.filters import ServiceOrderFilter
from apps.service.models import OfferStatus
from apps.tenancy.roles import Grant, grant_for

NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such service order of your organization's (or of yours)")
ILLEGAL_MOVE = OpenApiResponse(
    description="INVALID_STATE_TRANSITION: the lifecycle does not allow this from the order's status (the "
    "allowed moves are in details), the offer is closed, or the expert is off duty or booked"
)
FORM = "multipart/form-data"


def _is_form(request) -> bool:
    return (request.content_type or "").startswith(FORM)


class ServiceOrderView(ServiceEndpoint):
    def order_body(self, service_order_id) -> dict:
        order = selectors.service_order_get(
            organization_id=self.organization_id, service_order_id=service_order_id, own_user_id=self.own_customer_id()
        )
        return s.ServiceOrderDetailOutput(order, context=self.context()).data


class ServiceOrderListView(ServiceOrderView):
    parser_classes = [StrictJSONParser, StrictMultiPartParser]
    required_permissions = {"GET": "service_order:read", "POST": "service_order:create"}
    filterset_class = ServiceOrderFilter  # for the schema: the filters of GET /service-orders

    @extend_schema(
        filters=True,
        responses=s.ServiceOrderOutput(many=True),
        summary="Service orders of both sides, newest first: your organization's, and those your experts hold "
        "(a customer: the ones they asked for; an expert: the ones they hold)",
    )
    def get(self, request):
        orders = selectors.service_order_list(organization_id=self.organization_id, own_user_id=self.own_customer_id())
        return paginated_response(
            self, filter_queryset(ServiceOrderFilter, request, orders), s.ServiceOrderOutput, context=self.context()
        )

    @extend_schema(
        request={"application/json": s.ServiceOrderCreateInput, FORM: s.ServiceOrderCreateFormInput},
        responses={
            201: s.ServiceOrderDetailOutput,
            400: OpenApiResponse(description="Invalid or missing fields, a device that is not yours or not "
                                 "installed, a photo that is not an image"),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Ask for service (PENDING; matching then proposes experts); a form may carry photos",
    )  # fmt: skip
    @idempotent
    def post(self, request):
        data = (s.ServiceOrderCreateFormInput if _is_form(request) else s.ServiceOrderCreateInput)(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        photos = [upload_of(photo) for photo in fields.pop("photos", [])]
        # Whoever reads only their own orders orders only for themselves, on their own devices.
        membership = self.membership
        own = grant_for(membership.role, membership.extra_permissions, "service_order:read") is not Grant.ALL
        order = services.service_order_create(
            actor=self.actor(), data=services.ServiceOrderInput(**fields, photos=photos), own=own
        )
        return Response(self.order_body(order.id), status=201)


class ServiceOrderDetailView(ServiceOrderView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "service_order:read", "PATCH": "service_order:update"}

    @extend_schema(
        responses={200: s.ServiceOrderDetailOutput, 404: NOT_YOURS},
        summary="A service order with its history, files and the expert who holds it",
    )
    def get(self, request, service_order_id):
        return Response(self.order_body(service_order_id))

    @extend_schema(
        request=s.ServiceOrderUpdateInput,
        responses={
            200: s.ServiceOrderDetailOutput,
            404: NOT_YOURS,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: work has started"),
        },
        summary="Correct the order while no work has started (PENDING or ASSIGNED; the customer's side)",
    )
    def patch(self, request, service_order_id):
        data = s.ServiceOrderUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.service_order_update(
            actor=self.actor(),
            service_order_id=service_order_id,
            changes=dict(data.validated_data),
            own_user_id=self.own_customer_id(),
        )
        return Response(self.order_body(service_order_id))


class ServiceOrderAssignView(ServiceOrderView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "service_order:assign"}

    @extend_schema(
        request=s.ServiceOrderAssignInput,
        responses={
            200: s.ServiceOrderDetailOutput,
            400: OpenApiResponse(description="No published expert, nor one of yours, has this id"),
            404: NOT_YOURS,
            422: ILLEGAL_MOVE,
        },
        summary="Give a PENDING order to an expert (their organization becomes a party; live offers close)",
    )
    def post(self, request, service_order_id):
        data = s.ServiceOrderAssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.service_order_assign(
            actor=self.actor(),
            service_order_id=service_order_id,
            expert_id=data.validated_data["expert_id"],
            own_user_id=self.own_customer_id(),
        )
        return Response(self.order_body(service_order_id))


class ServiceOrderAcceptView(ServiceOrderView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "service_order:work"}

    @extend_schema(
        request=None,
        responses={200: s.ServiceOrderDetailOutput, 404: NOT_YOURS, 422: ILLEGAL_MOVE},
        summary="The expert takes the order: confirms an assignment, or accepts a live offer (the first "
        "to accept gets it; the others get 422)",
    )
    def post(self, request, service_order_id):
        services.service_order_accept(actor=self.actor(), service_order_id=service_order_id)
        return Response(self.order_body(service_order_id))


class ServiceOrderDeclineView(ServiceOrderView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "service_order:work"}

    @extend_schema(
        request=s.ServiceOrderReasonInput,
        responses={200: s.ServiceOrderDeclineOutput, 404: NOT_YOURS, 422: ILLEGAL_MOVE},
        summary="The expert says no: gives an assignment back (PENDING again) or declines a live offer",
    )
    def post(self, request, service_order_id):
        data = s.ServiceOrderReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.service_order_decline(
            actor=self.actor(), service_order_id=service_order_id, reason=data.validated_data["reason"]
        )
        # Either way the order is no longer the expert's to read: the answer says what happened.
        body = {
            "service_order_id": service_order_id,
            "status": order.status if order is not None else None,
            "offer_status": OfferStatus.DECLINED,
        }
        return Response(s.ServiceOrderDeclineOutput(body).data)


class ServiceOrderStartView(ServiceOrderView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "service_order:work"}

    @extend_schema(
        request=None,
        responses={200: s.ServiceOrderDetailOutput, 404: NOT_YOURS, 422: ILLEGAL_MOVE},
        summary="The assigned expert starts the work (IN_PROGRESS; they are IN_SERVICE)",
    )
    def post(self, request, service_order_id):
        services.service_order_start(actor=self.actor(), service_order_id=service_order_id)
        return Response(self.order_body(service_order_id))


class ServiceOrderCompleteView(ServiceOrderView):
    parser_classes = [StrictJSONParser, StrictMultiPartParser]
    required_permissions = {"POST": "service_order:work"}

    @extend_schema(
        request={"application/json": s.ServiceOrderCompleteInput, FORM: s.ServiceOrderCompleteFormInput},
        responses={
            200: s.ServiceOrderDetailOutput,
            400: OpenApiResponse(description="Invalid or missing fields, or a file that is not an image"),
            404: NOT_YOURS,
            422: ILLEGAL_MOVE,
        },
        summary="The expert completes the work with the customer's sign-off; the device's passport gets its "
        "`serviced` step",
    )
    def post(self, request, service_order_id):
        data = (s.ServiceOrderCompleteFormInput if _is_form(request) else s.ServiceOrderCompleteInput)(
            data=request.data
        )
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        photos = [upload_of(photo) for photo in fields.pop("photos", [])]
        sign_off = fields.pop("sign_off", None)
        services.service_order_complete(
            actor=self.actor(),
            service_order_id=service_order_id,
            data=services.CompletionInput(
                work_done=fields["work_done"],
                signed_off_by_name=fields["signed_off_by_name"],
                parts_used=[dict(part) for part in fields["parts_used"]],
                photos=photos,
                sign_off=upload_of(sign_off) if sign_off else None,
            ),
        )
        return Response(self.order_body(service_order_id))


class ServiceOrderCancelView(ServiceOrderView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": "service_order:cancel"}

    @extend_schema(
        request=s.ServiceOrderCancelInput,
        responses={
            200: s.ServiceOrderDetailOutput,
            404: NOT_YOURS,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: work in progress or done is not cancelled"),
        },
        summary="Cancel an order no one has started, with a reason (live offers close; the expert is free)",
    )
    def post(self, request, service_order_id):
        data = s.ServiceOrderCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.service_order_cancel(
            actor=self.actor(),
            service_order_id=service_order_id,
            reason=data.validated_data["reason"],
            own_user_id=self.own_customer_id(),
        )
        return Response(self.order_body(service_order_id))


class ServiceOrderMatchListView(ServiceOrderView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "service_order:read", "POST": "service_order:update"}

    @extend_schema(
        responses={200: s.ServiceOrderMatchOutput(many=True), 404: NOT_YOURS},
        summary="The experts matching scored for your order, best first: score, breakdown, rank, offer",
    )
    def get(self, request, service_order_id):
        order = selectors.customer_order_get(
            organization_id=self.organization_id, service_order_id=service_order_id, own_user_id=self.own_customer_id()
        )
        return paginated_response(self, selectors.service_order_matches(order=order), s.ServiceOrderMatchOutput)

    @extend_schema(
        request=None,
        responses={200: s.ServiceOrderMatchOutput(many=True), 404: NOT_YOURS, 422: ILLEGAL_MOVE},
        summary="Match a PENDING order again (new experts, a changed site): results nobody acted on are "
        "replaced, those with an offer or a status kept; URGENT and HIGH go on to the next live offers",
    )
    def post(self, request, service_order_id):
        services.service_order_rematch(
            actor=self.actor(), service_order_id=service_order_id, own_user_id=self.own_customer_id()
        )
        order = selectors.customer_order_get(
            organization_id=self.organization_id, service_order_id=service_order_id, own_user_id=self.own_customer_id()
        )
        return paginated_response(self, selectors.service_order_matches(order=order), s.ServiceOrderMatchOutput)


@extend_schema_view(
    get=extend_schema(
        responses={(200, kind): bytes for kind in EXTENSIONS_BY_CONTENT_TYPE},
        summary="Download a service order's photo or document",
    )
)
class AttachmentFileView(SignedFileView):
    salt = s.ATTACHMENT_SALT

    def max_age(self) -> int:
        return download_max_age()

    def open_file(self, *, record_id, organization_id) -> OpenedFile:
        attachment = selectors.attachment_get(organization_id=organization_id, attachment_id=record_id)
        return OpenedFile(attachment.file.open("rb"), attachment.filename, attachment.content_type)
