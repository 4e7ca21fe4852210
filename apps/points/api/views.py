"""Points and referrals API for the signed-in person, acting for an organization that has the
`points` feature on (403 FEATURE_DISABLED otherwise). Every answer is about the caller alone:
their balance and ledger, what earns points, their invite code, the people they referred, and
naming who referred them. Any active member may call them, whatever their role."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.api.filtering import query_params
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import StreamPagination, paginated_response
from apps.core.parsers import StrictJSONParser
from apps.points import selectors, services
from apps.points.api import serializers as s
from apps.points.services.ledger import FEATURE
from apps.tenancy.api.base import OrganizationEndpoint
from apps.tenancy.permissions import ANY_MEMBER

REFUSED = OpenApiResponse(
    description="VALIDATION_CONSTRAINT_VIOLATION: your own code, a referral loop, a referrer who is a member of "
    "your organization, already referred, too late, or after your organization's first completed order"
)


class PointsView(OrganizationEndpoint):
    """The caller's own points and referrals, in an organization with `points` on."""

    required_feature = FEATURE
    required_permissions = {"GET": ANY_MEMBER}


class BalanceView(PointsView):
    @extend_schema(responses=s.PointBalanceOutput, summary="Your points balance")
    def get(self, request):
        """Your balance now, and when it last changed (null before your first points)."""
        balance = selectors.point_balance(user_id=request.user.id)
        return Response(s.PointBalanceOutput(balance).data)


class TransactionPagination(StreamPagination):
    """The ledger, newest line first (its own order, so a line added while you read never shifts a page)."""

    ordering = ("-sequence",)


class TransactionListView(PointsView):
    pagination_class = TransactionPagination  # for the schema: the cursor and limit parameters, the envelope

    @extend_schema(
        parameters=[s.PointTransactionFilterInput],
        responses=s.PointTransactionOutput(many=True),
        summary="Your points ledger, newest first (a cursor stream: the ledger is append-only)",
    )
    def get(self, request):
        """Every line of your ledger: what earned or cost points, the signed amount and the balance
        after it. Filter by `type` (REWARD, CREDIT, PENALTY) and `category`."""
        filters = query_params(s.PointTransactionFilterInput, request)
        lines = selectors.point_transactions(user_id=request.user.id).filter(**filters)
        paginator = TransactionPagination()
        page = paginator.paginate_queryset(lines, request, view=self)
        return paginator.get_paginated_response(s.PointTransactionOutput(page, many=True).data)


class RuleListView(PointsView):
    @extend_schema(responses=s.PointRuleOutput(many=True), summary="What earns points: the active rules")
    def get(self, request):
        """The active rules: which event earns (or costs) how many points, of which category."""
        return paginated_response(self, selectors.rule_list(), s.PointRuleOutput)


class ReferralCodeView(PointsView):
    @extend_schema(responses=s.ReferralCodeOutput, summary="Your invite code and sign-up link")
    def get(self, request):
        """Your personal invite code (made the first time you ask) and the sign-up link that carries
        it. People who sign up with it, or claim it soon after, are your referrals."""
        code = services.referral_code_get_or_create(user_id=request.user.id).code
        return Response(s.ReferralCodeOutput({"code": code, "link": services.referral_link(code)}).data)


class ReferralListView(PointsView):
    @extend_schema(responses=s.ReferralOutput(many=True), summary="The people you referred, newest first")
    def get(self, request):
        """Who signed up with your code: PENDING until their organization completes its first order
        or service order, then QUALIFIED and REWARDED (your points), or REFUSED with the reason."""
        return paginated_response(self, selectors.referral_list(referrer_id=request.user.id), s.ReferralOutput)


class ReferralClaimView(PointsView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"POST": ANY_MEMBER}

    @extend_schema(
        request=s.ReferralClaimInput,
        responses={
            201: s.ReferralOutput,
            400: OpenApiResponse(description="VALIDATION_FIELD_INVALID: an unknown code"),
            422: REFUSED,
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Name who referred you (if you signed up without their code)",
    )
    @idempotent
    def post(self, request):
        """Claim the invite code of the person who referred you: within the days the platform allows
        after sign-up (POINTS_REFERRAL_CLAIM_DAYS, 30), once, and before any of your organizations
        completed an order."""
        data = s.ReferralClaimInput(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_claim(user=request.user, code=data.validated_data["code"])
        return Response(s.ReferralOutput(referral).data, status=201)
