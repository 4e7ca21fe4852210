"""Reads of the marketplace. Row-level security already decides which rows a tenant sees
(published offerings and RFQs, offers of which it is a party); these narrow them to what
each screen shows and shape them for their serializers. Each filter repeats the policy in
the application, so forgetting it can never widen what a tenant reads."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.core.errors import NotFound
from apps.marketplace.models import (
    Offer,
    OfferRevision,
    OfferStatus,
    Rfq,
    RfqAudience,
    RfqStatus,
    RfqStatusChange,
    ServiceOffering,
    Tariff,
)
from apps.marketplace.pricing import Shipment

PUBLISHED = Q(is_active=True, is_hidden=False)


# --- Catalogue --------------------------------------------------------------------------------


def offering_list(*, organization_id: UUID, own_only: bool = False) -> QuerySet[ServiceOffering]:
    """Every published offering, and all of the organization's own (inactive or hidden too)."""
    own = Q(organization_id=organization_id)
    return ServiceOffering.objects.filter(own if own_only else own | PUBLISHED).order_by("name", "id")


def offering_list_published() -> QuerySet[ServiceOffering]:
    """Every offering in the catalogue now (active, not hidden), whoever owns it."""
    return ServiceOffering.objects.filter(PUBLISHED)


def offering_get(*, organization_id: UUID, offering_id: UUID) -> ServiceOffering:
    offering = offering_list(organization_id=organization_id).filter(pk=offering_id).first()
    if offering is None:
        raise NotFound("Service offering not found.")
    return offering


def tariff_list(*, organization_id: UUID, offering: ServiceOffering) -> QuerySet[Tariff]:
    """An offering's tariffs: all of them for its carrier, the active ones for everyone else."""
    queryset = Tariff.objects.filter(offering=offering)
    if offering.organization_id != organization_id:
        queryset = queryset.filter(is_active=True, offering_is_published=True)
    return queryset.order_by("tariff_type", "name", "id")


def tariff_get(*, organization_id: UUID, offering: ServiceOffering, tariff_id: UUID) -> Tariff:
    tariff = tariff_list(organization_id=organization_id, offering=offering).filter(pk=tariff_id).first()
    if tariff is None:
        raise NotFound("Tariff not found.")
    return tariff


def offerings_for_quote(*, shipment: Shipment) -> QuerySet[ServiceOffering]:
    """Published offerings whose limits admit the shipment, with their applicable tariffs.

    A narrowing in SQL of apps.marketplace.pricing.ineligibility_reasons (cities and the
    time of day are left to it); tests/marketplace prove both agree."""
    queryset = offering_list_published()
    if shipment.service_type:
        queryset = queryset.filter(service_type=shipment.service_type)
    if shipment.currency:
        queryset = queryset.filter(currency=shipment.currency)
    queryset = queryset.filter(
        Q(origin_countries=[]) | Q(origin_countries__contains=[shipment.origin.country]),
        Q(destination_countries=[]) | Q(destination_countries__contains=[shipment.destination.country]),
        Q(max_weight_kg__isnull=True) | Q(max_weight_kg__gte=shipment.weight_kg),
        Q(cargo_types=[]) | Q(cargo_types__contains=[shipment.cargo_type]),
    )
    if shipment.volume_cbm is not None:
        queryset = queryset.filter(Q(max_volume_cbm__isnull=True) | Q(max_volume_cbm__gte=shipment.volume_cbm))
    for dimension in ("length_cm", "width_cm", "height_cm"):
        value = getattr(shipment, dimension)
        if value is not None:
            limit = f"max_{dimension}"
            queryset = queryset.filter(Q(**{f"{limit}__isnull": True}) | Q(**{f"{limit}__gte": value}))
    if shipment.hazmat_class:
        queryset = queryset.filter(hazmat_classes__contains=[shipment.hazmat_class])
    if shipment.temperature_min_c is not None or shipment.temperature_max_c is not None:
        queryset = queryset.filter(temperature_controlled=True)
        if shipment.temperature_min_c is not None:
            queryset = queryset.filter(
                Q(temperature_min_c__isnull=True) | Q(temperature_min_c__lte=shipment.temperature_min_c)
            )
        if shipment.temperature_max_c is not None:
            queryset = queryset.filter(
                Q(temperature_max_c__isnull=True) | Q(temperature_max_c__gte=shipment.temperature_max_c)
            )
    if shipment.pickup_date is not None:
        weekday = shipment.pickup_date.isoweekday()
        queryset = queryset.filter(Q(available_days=[]) | Q(available_days__contains=[weekday]))
    return with_pricing_tariffs(queryset)


def with_pricing_tariffs(queryset: QuerySet[ServiceOffering]) -> QuerySet[ServiceOffering]:
    """Offerings with the tariffs pricing reads (`pricing_tariffs`), in one more query."""
    tariffs = Tariff.objects.filter(is_active=True).order_by("id")
    return queryset.prefetch_related(Prefetch("tariffs", queryset=tariffs, to_attr="pricing_tariffs")).order_by("id")


# --- RFQs -------------------------------------------------------------------------------------


def _visible_rfqs(organization_id: UUID) -> Q:
    open_to_carrier = Q(status=RfqStatus.OPEN) & (
        Q(audience=RfqAudience.PUBLIC) | Q(invited_organization_ids__contains=[organization_id])
    )
    return Q(organization_id=organization_id) | open_to_carrier | Q(awarded_organization_id=organization_id)


def rfq_list(*, organization_id: UUID) -> QuerySet[Rfq]:
    """The organization's own RFQs, the open ones it may answer, and the ones awarded to it.

    Each row carries `live_offer_count`, counted only for the owner's RFQs: a carrier never
    learns how many competitors answered."""
    return (
        Rfq.objects.filter(_visible_rfqs(organization_id))
        .annotate(
            live_offer_count=Count(
                "offers",
                filter=Q(offers__status=OfferStatus.SUBMITTED, offers__shipper_organization_id=organization_id),
            )
        )
        .order_by("-created_at", "-id")
    )


def rfq_get(*, organization_id: UUID, rfq_id: UUID) -> Rfq:
    rfq = rfq_list(organization_id=organization_id).filter(pk=rfq_id).first()
    if rfq is None:
        raise NotFound("RFQ not found.")
    return rfq


def rfq_history(*, rfq: Rfq) -> QuerySet[RfqStatusChange]:
    return RfqStatusChange.objects.filter(rfq=rfq, organization_id=rfq.organization_id).order_by("created_at", "id")


# --- Offers -----------------------------------------------------------------------------------


def offer_list(*, organization_id: UUID, submitted_by_id: UUID | None = None) -> QuerySet[Offer]:
    """Offers the organization made (as carrier) or received (as the RFQ's owner); with
    `submitted_by_id` (an `:own` grant) only those the user submitted."""
    queryset = Offer.objects.filter(
        Q(carrier_organization_id=organization_id) | Q(shipper_organization_id=organization_id)
    ).order_by("-created_at", "-id")
    if submitted_by_id is not None:
        queryset = queryset.filter(submitted_by_id=submitted_by_id)
    return queryset


def offer_list_for_rfq(*, organization_id: UUID, rfq: Rfq, submitted_by_id: UUID | None = None) -> QuerySet[Offer]:
    """The offers on an RFQ: all of them for its owner, a carrier's own for a carrier."""
    return offer_list(organization_id=organization_id, submitted_by_id=submitted_by_id).filter(rfq=rfq)


def offer_get(*, organization_id: UUID, offer_id: UUID, submitted_by_id: UUID | None = None) -> Offer:
    offer = (
        offer_list(organization_id=organization_id, submitted_by_id=submitted_by_id)
        .filter(pk=offer_id)
        .prefetch_related(Prefetch("revisions", queryset=OfferRevision.objects.order_by("version")))
        .first()
    )
    if offer is None:
        raise NotFound("Offer not found.")
    return offer
