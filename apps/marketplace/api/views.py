"""Marketplace API: the service catalogue and instant quotes, RFQs, offers and the award."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.api.filtering import filter_queryset
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import paginated_response
from apps.core.throttling import ApiIpRateThrottle, ApiUserRateThrottle
from apps.marketplace import quotes, selectors, services
from apps.marketplace.api import serializers as s
from apps.marketplace.api.filters import OfferFilter, OfferingFilter, RfqFilter
from apps.marketplace.pricing import Place, Shipment
from apps.tenancy.api.base import OrganizationEndpoint

ROUNDING_STATEMENT = (
    "Each line is rounded to the currency's minor units, half to even (ROUND_HALF_EVEN); the total is their sum."
)
CLOSED = OpenApiResponse(description="RFQ_ALREADY_CLOSED or INVALID_STATE_TRANSITION")


# --- Catalogue --------------------------------------------------------------------------------


class OfferingListView(OrganizationEndpoint):
    required_permissions = {"GET": "service:read", "POST": "service:create"}
    filterset_class = OfferingFilter

    @extend_schema(responses=s.OfferingOutput(many=True), summary="The catalogue: published offerings, and your own")
    def get(self, request):
        queryset = selectors.offering_list(organization_id=self.organization_id)
        return paginated_response(self, filter_queryset(OfferingFilter, request, queryset), s.OfferingOutput)

    @extend_schema(
        request=s.OfferingInput,
        responses={201: s.OfferingOutput},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Publish a service offering",
    )
    @idempotent
    def post(self, request):
        data = s.OfferingInput(data=request.data)
        data.is_valid(raise_exception=True)
        offering = services.offering_create(actor=self.actor(), data=data.validated_data)
        return Response(s.OfferingOutput(offering).data, status=201)


class OfferingDetailView(OrganizationEndpoint):
    required_permissions = {"GET": "service:read", "PATCH": "service:update"}

    @extend_schema(responses=s.OfferingOutput, summary="One offering")
    def get(self, request, offering_id):
        offering = selectors.offering_get(organization_id=self.organization_id, offering_id=offering_id)
        return Response(s.OfferingOutput(offering).data)

    @extend_schema(request=s.OfferingInput, responses=s.OfferingOutput, summary="Change your offering")
    def patch(self, request, offering_id):
        data = s.OfferingInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        offering = services.offering_update(actor=self.actor(), offering_id=offering_id, data=data.validated_data)
        return Response(s.OfferingOutput(offering).data)


class TariffListView(OrganizationEndpoint):
    required_permissions = {"GET": "service:read", "POST": "tariff:create"}

    @extend_schema(responses=s.TariffOutput(many=True), summary="An offering's tariffs")
    def get(self, request, offering_id):
        offering = selectors.offering_get(organization_id=self.organization_id, offering_id=offering_id)
        tariffs = selectors.tariff_list(organization_id=self.organization_id, offering=offering)
        return paginated_response(self, tariffs, s.TariffOutput)

    @extend_schema(
        request=s.TariffInput,
        responses={201: s.TariffOutput},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Add a tariff to your offering",
    )
    @idempotent
    def post(self, request, offering_id):
        data = s.TariffInput(data=request.data)
        data.is_valid(raise_exception=True)
        tariff = services.tariff_create(actor=self.actor(), offering_id=offering_id, data=data.validated_data)
        return Response(s.TariffOutput(tariff).data, status=201)


class TariffDetailView(OrganizationEndpoint):
    required_permissions = {"GET": "service:read", "PATCH": "tariff:update", "DELETE": "tariff:delete"}

    @extend_schema(responses=s.TariffOutput, summary="One tariff")
    def get(self, request, offering_id, tariff_id):
        offering = selectors.offering_get(organization_id=self.organization_id, offering_id=offering_id)
        tariff = selectors.tariff_get(organization_id=self.organization_id, offering=offering, tariff_id=tariff_id)
        return Response(s.TariffOutput(tariff).data)

    @extend_schema(request=s.TariffInput, responses=s.TariffOutput, summary="Change a tariff of your offering")
    def patch(self, request, offering_id, tariff_id):
        data = s.TariffInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        tariff = services.tariff_update(
            actor=self.actor(), offering_id=offering_id, tariff_id=tariff_id, data=data.validated_data
        )
        return Response(s.TariffOutput(tariff).data)

    @extend_schema(responses={204: None}, summary="Remove a tariff of your offering")
    def delete(self, request, offering_id, tariff_id):
        services.tariff_delete(actor=self.actor(), offering_id=offering_id, tariff_id=tariff_id)
        return Response(status=204)


def _place(data: dict) -> Place:
    return Place(
        country=data["country"], city=data["city"], latitude=data.get("latitude"), longitude=data.get("longitude")
    )


class ExplainedQuoteRateThrottle(ApiUserRateThrottle):
    """Explained quotes per user: each judges every published offering in Python (seconds
    over a large catalogue), so they have a rate of their own; plain quotes do not count."""

    scope = "quote_explain"

    def get_identity(self, request, view) -> str | None:
        explain = request.data.get("explain") if hasattr(request.data, "get") else None
        return super().get_identity(request, view) if explain in (True, "true", "True", 1, "1") else None


class QuoteView(OrganizationEndpoint):
    required_permissions = {"POST": "service:read"}
    throttle_classes = [ApiUserRateThrottle, ApiIpRateThrottle, ExplainedQuoteRateThrottle]

    @extend_schema(
        request=s.ShipmentQuoteInput,
        responses=s.QuoteResponse,
        summary="Instant quotes from every offering that can carry the shipment",
    )
    def post(self, request):
        data = s.ShipmentQuoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        shipment = Shipment(
            origin=_place(options["origin"]),
            destination=_place(options["destination"]),
            **{field: options.get(field) for field in s.CargoFields().fields},
            pickup_date=options.get("pickup_date"),
            service_type=options["service_type"],
            currency=options.get("currency", ""),
        )
        limit = options["limit"]
        issued = services.quotes_issue(
            actor=self.actor(),
            shipment=shipment,
            now=timezone.now(),
            sort=options["sort"],
            explain=options["explain"],
            limit=limit,
        )
        result = issued.result
        # One serializer for the page (many=True builds its fields once, not once per offering).
        shown = s.OfferingOutput([offering for offering, _ in result.quotes], many=True).data
        moment = s.QuoteOutput().fields["valid_until"]
        body = {
            "data": [
                {
                    "quote_id": str(record.id),
                    "valid_until": moment.to_representation(record.valid_until),
                    "offering": offering,
                    **quotes.quote_as_dict(quote),
                }
                for offering, (_, quote), record in zip(shown, result.quotes, issued.records, strict=True)
            ],
            "meta": {
                "total": result.total,
                "limit": limit,
                "sort": options["sort"],
                "distance": {
                    "km": str(result.distance.km) if result.distance.km is not None else None,
                    "method": result.distance.method,
                },
                "rounding": ROUNDING_STATEMENT,
            },
        }
        if options["explain"]:
            body["excluded"] = [
                {"offering": s.OfferingOutput(offering).data, "reasons": exclusion.to_dict()["reasons"]}
                for offering, exclusion in result.excluded[:limit]
            ]
            body["excluded_meta"] = {"total": len(result.excluded), "by_reason": result.excluded_by_reason}
        return Response(body)


# --- RFQs -------------------------------------------------------------------------------------


class MarketplaceView(OrganizationEndpoint):
    def context(self) -> dict:
        return {"organization_id": self.organization_id}

    def rfq_body(self, rfq) -> dict:
        rfq = selectors.rfq_get(organization_id=self.organization_id, rfq_id=rfq.id)
        return s.RfqOutput(rfq, context=self.context()).data


class RfqListView(MarketplaceView):
    required_permissions = {"GET": "rfq:read", "POST": "rfq:create"}
    filterset_class = RfqFilter

    @extend_schema(responses=s.RfqOutput(many=True), summary="Your RFQs, and the open ones you may answer")
    def get(self, request):
        queryset = selectors.rfq_list(organization_id=self.organization_id)
        return paginated_response(
            self, filter_queryset(RfqFilter, request, queryset), s.RfqOutput, context=self.context()
        )

    @extend_schema(
        request=s.RfqInput, responses={201: s.RfqOutput}, parameters=[IDEMPOTENCY_HEADER], summary="Draft an RFQ"
    )
    @idempotent
    def post(self, request):
        data = s.RfqInput(data=request.data)
        data.is_valid(raise_exception=True)
        rfq = services.rfq_create(actor=self.actor(), data=data.validated_data)
        return Response(self.rfq_body(rfq), status=201)


class RfqDetailView(MarketplaceView):
    required_permissions = {"GET": "rfq:read", "PATCH": "rfq:update"}

    @extend_schema(responses=s.RfqOutput, summary="One RFQ")
    def get(self, request, rfq_id):
        rfq = selectors.rfq_get(organization_id=self.organization_id, rfq_id=rfq_id)
        return Response(s.RfqOutput(rfq, context=self.context()).data)

    @extend_schema(
        request=s.RfqUpdateInput,
        responses={200: s.RfqOutput, 422: CLOSED},
        summary="Change a draft RFQ (an open one: description, later deadline, more invitations)",
    )
    def patch(self, request, rfq_id):
        data = s.RfqUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        rfq = services.rfq_update(actor=self.actor(), rfq_id=rfq_id, data=data.validated_data)
        return Response(self.rfq_body(rfq))


class RfqPublishView(MarketplaceView):
    required_permissions = {"POST": "rfq:publish"}

    @extend_schema(request=None, responses={200: s.RfqOutput, 422: CLOSED}, summary="Open a draft RFQ to carriers")
    def post(self, request, rfq_id):
        rfq = services.rfq_publish(actor=self.actor(), rfq_id=rfq_id)
        return Response(self.rfq_body(rfq))


class RfqCancelView(MarketplaceView):
    required_permissions = {"POST": "rfq:cancel"}

    @extend_schema(
        request=s.ReasonInput, responses={200: s.RfqOutput, 422: CLOSED}, summary="Call off an RFQ (offers rejected)"
    )
    def post(self, request, rfq_id):
        data = s.ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        rfq = services.rfq_cancel(actor=self.actor(), rfq_id=rfq_id, reason=data.validated_data["reason"])
        return Response(self.rfq_body(rfq))


class RfqOffersView(MarketplaceView):
    required_permissions = {"GET": "offer:read", "POST": "offer:create"}

    @extend_schema(responses=s.OfferOutput(many=True), summary="Offers on the RFQ (a carrier: only its own)")
    def get(self, request, rfq_id):
        rfq = selectors.rfq_get(organization_id=self.organization_id, rfq_id=rfq_id)
        offers = selectors.offer_list_for_rfq(
            organization_id=self.organization_id, rfq=rfq, submitted_by_id=self.own_customer_id()
        )
        return paginated_response(self, offers, s.OfferOutput)

    @extend_schema(
        request=s.OfferInput,
        responses={201: s.OfferDetailOutput, 422: OpenApiResponse(description="KYC_NOT_VERIFIED, RFQ_ALREADY_CLOSED")},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Make an offer (KYC-verified carriers; one live offer each)",
    )
    @idempotent
    def post(self, request, rfq_id):
        data = s.OfferInput(data=request.data)
        data.is_valid(raise_exception=True)
        offer = services.offer_submit(actor=self.actor(), rfq_id=rfq_id, data=data.validated_data)
        offer = selectors.offer_get(organization_id=self.organization_id, offer_id=offer.id)
        return Response(s.OfferDetailOutput(offer).data, status=201)


# --- Offers -----------------------------------------------------------------------------------


class OfferListView(MarketplaceView):
    required_permissions = {"GET": "offer:read"}
    filterset_class = OfferFilter

    @extend_schema(responses=s.OfferOutput(many=True), summary="Offers you made, and offers on your RFQs")
    def get(self, request):
        queryset = selectors.offer_list(organization_id=self.organization_id, submitted_by_id=self.own_customer_id())
        return paginated_response(self, filter_queryset(OfferFilter, request, queryset), s.OfferOutput)


class OfferView(MarketplaceView):
    def offer_body(self, offer_id) -> dict:
        offer = selectors.offer_get(
            organization_id=self.organization_id, offer_id=offer_id, submitted_by_id=self.own_customer_id()
        )
        return s.OfferDetailOutput(offer).data


class OfferDetailView(OfferView):
    required_permissions = {"GET": "offer:read", "PATCH": "offer:update"}

    @extend_schema(responses=s.OfferDetailOutput, summary="One offer with every version")
    def get(self, request, offer_id):
        return Response(self.offer_body(offer_id))

    @extend_schema(
        request=s.OfferReviseInput,
        responses={200: s.OfferDetailOutput, 422: CLOSED},
        summary="Revise your live offer (a new version; the earlier ones are kept)",
    )
    def patch(self, request, offer_id):
        data = s.OfferReviseInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.offer_revise(actor=self.actor(), offer_id=offer_id, data=data.validated_data)
        return Response(self.offer_body(offer_id))


class OfferWithdrawView(OfferView):
    required_permissions = {"POST": "offer:withdraw"}

    @extend_schema(
        request=s.OptionalReasonInput, responses={200: s.OfferDetailOutput, 422: CLOSED}, summary="Withdraw your offer"
    )
    def post(self, request, offer_id):
        data = s.OptionalReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.offer_withdraw(actor=self.actor(), offer_id=offer_id, reason=data.validated_data["reason"])
        return Response(self.offer_body(offer_id))


class OfferRejectView(OfferView):
    required_permissions = {"POST": "offer:reject"}

    @extend_schema(
        request=s.OptionalReasonInput,
        responses={200: s.OfferDetailOutput, 422: CLOSED},
        summary="Decline an offer on your RFQ",
    )
    def post(self, request, offer_id):
        data = s.OptionalReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.offer_reject(actor=self.actor(), offer_id=offer_id, reason=data.validated_data["reason"])
        return Response(self.offer_body(offer_id))


class OfferAcceptView(MarketplaceView):
    required_permissions = {"POST": "offer:accept"}

    @extend_schema(
        request=None,
        responses={200: s.AwardOutput, 422: OpenApiResponse(description="RFQ_ALREADY_CLOSED, KYC_NOT_VERIFIED")},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Award the RFQ to this offer: the others are rejected and a freight order is created",
    )
    @idempotent
    def post(self, request, offer_id):
        award = services.offer_accept(actor=self.actor(), offer_id=offer_id)
        offer = selectors.offer_get(organization_id=self.organization_id, offer_id=award.offer.id)
        body = {
            "offer": s.OfferDetailOutput(offer).data,
            "rfq": self.rfq_body(award.rfq),
            "order": str(award.order_id),
            "rejected_offers": [str(offer_id) for offer_id in award.rejected_offer_ids],
        }
        return Response(body)
