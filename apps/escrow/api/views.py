"""Payments API: escrow (create, fund, release, status), refunds, balances, statements,
exchange rates, and the payment providers' webhooks. (A dispute freezes an escrow through
the disputes context, POST /api/v1/disputes, which owns the case and its resolution.)

Every money-moving POST requires an Idempotency-Key: a retry replays the first answer
and moves nothing again."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.filtering import query_params
from apps.core.idempotency import IDEMPOTENCY_HEADER_REQUIRED, idempotent
from apps.core.pagination import StreamPagination, paginated_response, stream_response
from apps.escrow import selectors, services
from apps.escrow.api import serializers as s
from apps.orders.selectors import OrderScope, order_scope
from apps.tenancy.api.base import OrganizationEndpoint

MONEY_ERRORS = {
    400: OpenApiResponse(description="VALIDATION_* (Idempotency-Key missing, bad amount)"),
    422: OpenApiResponse(
        description="INSUFFICIENT_FUNDS, INVALID_STATE_TRANSITION, KYC_NOT_VERIFIED, IDEMPOTENCY_KEY_REUSED"
    ),
}


class PaymentsView(OrganizationEndpoint):
    required_feature = "escrow"

    def order_scope(self) -> OrderScope:
        """The orders whose escrows and ledger lines the member reaches with this method's permission."""
        permission = self.method_permission
        return order_scope(actor=self.actor(), permission=permission)


class EscrowListView(PaymentsView):
    required_permissions = {"GET": "escrow:read"}

    @extend_schema(
        parameters=[s.EscrowListQuery],
        responses=s.EscrowOutput(many=True),
        summary="Escrows of which your organization is a party",
    )
    def get(self, request):
        queryset = selectors.escrow_list(organization_id=self.organization_id, scope=self.order_scope())
        if status := query_params(s.EscrowListQuery, request).get("status"):
            queryset = queryset.filter(status=status)
        return paginated_response(self, queryset, s.EscrowOutput)


class EscrowCreateView(PaymentsView):
    required_permissions = {"POST": "escrow:fund"}

    @extend_schema(
        request=s.EscrowCreateInput,
        responses={201: s.EscrowOutput, **MONEY_ERRORS},
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        summary="Open the escrow of an order (the client); shows the commission before funding",
    )
    @idempotent(required=True)
    def post(self, request):
        data = s.EscrowCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        escrow = services.escrow_create(actor=self.actor(), **data.validated_data)
        return Response(s.EscrowOutput(escrow).data, status=201)


class EscrowFundView(PaymentsView):
    required_permissions = {"POST": "escrow:fund"}

    @extend_schema(
        request=s.EscrowFundInput,
        responses={202: s.FundOutput, **MONEY_ERRORS},
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        summary="Fund an escrow: final when the provider confirms (the status then says funded)",
    )
    @idempotent(required=True)
    def post(self, request, escrow_id):
        data = s.EscrowFundInput(data=request.data)
        data.is_valid(raise_exception=True)
        funding = services.escrow_fund(actor=self.actor(), escrow_id=escrow_id, **data.validated_data)
        escrow = selectors.escrow_get(
            organization_id=self.organization_id, escrow_id=escrow_id, scope=self.order_scope()
        )
        return Response(s.FundOutput({"escrow": escrow, "transaction": funding}).data, status=202)


class EscrowReleaseView(PaymentsView):
    required_permissions = {"POST": "escrow:release"}

    @extend_schema(
        request=s.EscrowReleaseInput,
        responses={200: s.EscrowOutput, **MONEY_ERRORS},
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        summary="Release all or part of what is held to the supplier (the client)",
    )
    @idempotent(required=True)
    def post(self, request, escrow_id):
        data = s.EscrowReleaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        escrow = services.escrow_release(actor=self.actor(), escrow_id=escrow_id, **data.validated_data)
        return Response(s.EscrowOutput(escrow).data)


class EscrowStatusView(PaymentsView):
    required_permissions = {"GET": "escrow:read"}

    @extend_schema(responses=s.EscrowStatusOutput, summary="An escrow's status, amounts, history and transactions")
    def get(self, request, escrow_id):
        escrow = selectors.escrow_get(
            organization_id=self.organization_id, escrow_id=escrow_id, scope=self.order_scope()
        )
        return Response(s.EscrowStatusOutput(escrow).data)


class RefundView(PaymentsView):
    required_permissions = {"POST": "escrow:refund"}

    @extend_schema(
        request=s.RefundInput,
        responses={202: s.RefundOutput, **MONEY_ERRORS},
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        summary="Refund all or part of what is held to the client (the supplier); the provider confirms",
    )
    @idempotent(required=True)
    def post(self, request):
        data = s.RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        refund = services.escrow_refund(actor=self.actor(), **data.validated_data)
        escrow = selectors.escrow_get(
            organization_id=self.organization_id, escrow_id=refund.escrow_id, scope=self.order_scope()
        )
        return Response(s.RefundOutput({"escrow": escrow, "transaction": refund}).data, status=202)


class BalancesView(PaymentsView):
    required_permissions = {"GET": "escrow:read"}

    @extend_schema(parameters=[s.BalancesQuery], responses=s.BalancesOutput, summary="Your available and held money")
    def get(self, request):
        query = query_params(s.BalancesQuery, request)
        rows = selectors.balances_shown(
            organization_id=self.organization_id,
            scope=self.order_scope(),
            display_currency=query.get("display_currency"),
        )
        return Response({"data": s.BalanceOutput(rows, many=True).data})


class StatementView(PaymentsView):
    required_permissions = {"GET": "escrow:read"}
    pagination_class = StreamPagination  # for the schema: the cursor and limit parameters, the envelope

    @extend_schema(
        parameters=[s.StatementQuery],
        responses=s.StatementLineOutput(many=True),
        summary="Your ledger lines, newest first (a cursor stream)",
    )
    def get(self, request):
        query = query_params(s.StatementQuery, request)
        lines = selectors.ledger_statement(
            organization_id=self.organization_id,
            currency=query.get("currency"),
            scope=self.order_scope(),
            kind=query.get("account"),
        )
        return stream_response(self, lines, s.StatementLineOutput)


class ExchangeRateListView(PaymentsView):
    required_permissions = {"GET": "escrow:read"}

    @extend_schema(responses=s.ExchangeRateOutput(many=True), summary="Exchange rates, for display only")
    def get(self, request):
        return paginated_response(self, selectors.exchange_rate_list(), s.ExchangeRateOutput)


class WebhookView(APIView):
    """A payment provider tells us what happened. No user: the signature is the credential."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: s.WebhookOutput,
            400: OpenApiResponse(description="VALIDATION_FIELD_INVALID (signature, stale)"),
        },
        summary="Payment provider webhooks (signed)",
        auth=[],
    )
    def post(self, request, provider):
        body = request._request.body
        _event, created = services.webhook_receive(provider=provider, body=body, headers=request.headers)
        return Response(s.WebhookOutput({"received": True, "duplicate": not created}).data)
