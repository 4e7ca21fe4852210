"""Reads of field service: experts (the organization's own, and every published profile),
service orders (each party's; `:own` grants narrow them to the person's), and matching results."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import BooleanField, F, Field, Func, OuterRef, Prefetch, Q, QuerySet, Subquery, Value

from apps.core.errors import NotFound
from apps.service.models import (
    ExpertCertification,
    ExpertPassport,
    MatchingResult,
    MatchSourceType,
    MatchTargetType,
    ServiceOrder,
    ServiceOrderAttachment,
    ServiceOrderStatusChange,
)


@dataclass(frozen=True)
class ServiceOrderParties:
    """What another context (reviews, points) needs to know of a service order: who its two
    sides are and where it stands."""

    id: UUID
    number: str
    status: str
    organization_id: UUID
    expert_organization_id: UUID | None
    expert_id: UUID | None
    expert_user_id: UUID | None
    customer_id: UUID | None
    created_by_id: UUID | None
    completed_at: object


def service_order_parties(*, service_order_id: UUID) -> ServiceOrderParties | None:
    """The service order's parties as the current tenant sees it (None: not found or not a
    party: row-level security answers no row)."""
    row = (
        ServiceOrder.objects.filter(id=service_order_id)
        .values(
            "id",
            "number",
            "status",
            "organization_id",
            "expert_organization_id",
            "expert_id",
            "expert_user_id",
            "customer_id",
            "created_by_id",
            "completed_at",
        )
        .first()
    )
    return ServiceOrderParties(**row) if row else None


# --- Experts -----------------------------------------------------------------------------------


def expert_catalogue(*, organization_id: UUID) -> QuerySet[ExpertPassport]:
    """The experts an organization chooses from: every published profile, and its own experts
    (published or not), newest first."""
    return ExpertPassport.objects.filter(Q(organization_id=organization_id) | Q(is_published=True)).order_by(
        "-created_at", "-id"
    )


class _Point(Func):
    function = "point"
    output_field = Field()


class _Box(Func):
    function = "box"
    output_field = Field()


class _Contains(Func):
    """`a @> b`: the box holds the point."""

    arg_joiner = " @> "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def expert_area_contains(queryset: QuerySet[ExpertPassport], *, latitude, longitude) -> QuerySet[ExpertPassport]:
    """The experts whose service area's bounding box holds the point (the expression of the
    matching prefilter's GiST index, migration 0001; a box is wider than the circle it holds)."""
    area = _Box(
        _Point(F("area_min_longitude"), F("area_min_latitude")),
        _Point(F("area_max_longitude"), F("area_max_latitude")),
    )
    return queryset.filter(_Contains(area, _Point(Value(float(longitude)), Value(float(latitude)))))


def expert_get(*, organization_id: UUID, expert_id: UUID) -> ExpertPassport:
    """A published expert, or one of the organization's own, with its certifications; 404 otherwise."""
    expert = (
        expert_catalogue(organization_id=organization_id)
        .filter(id=expert_id)
        .prefetch_related(Prefetch("certifications", queryset=ExpertCertification.objects.order_by(*CERT_ORDER)))
        .first()
    )
    if expert is None:
        raise NotFound("Expert not found.")
    return expert


CERT_ORDER = ("expires_on", "name", "id")


def expert_of_organization(*, organization_id: UUID, expert_id: UUID, user_id: UUID | None = None) -> ExpertPassport:
    """One of the organization's own experts (with `user_id`, an `:own` grant: only that
    person's passport); 404 for any other, a published profile of another organization too."""
    queryset = ExpertPassport.objects.filter(organization_id=organization_id, id=expert_id)
    if user_id is not None:
        queryset = queryset.filter(user_id=user_id)
    expert = queryset.first()
    if expert is None:
        raise NotFound("Expert not found.")
    return expert


def expert_matches(*, expert: ExpertPassport) -> QuerySet[MatchingResult]:
    """The matching results that name the expert as the candidate, newest first (the expert's
    side reads the source's summary, not the source: it is not theirs before they hold it)."""
    return MatchingResult.objects.filter(
        target_organization_id=expert.organization_id, target_type=MatchTargetType.EXPERT, target_id=expert.id
    ).order_by("-created_at", "-id")


def expert_service_records(*, expert: ExpertPassport) -> QuerySet[ServiceOrder]:
    """The service orders the expert holds or completed, as their organization sees them, newest
    first (an order the expert gave back is no longer their organization's)."""
    return (
        ServiceOrder.objects.filter(expert_organization_id=expert.organization_id, expert_id=expert.id)
        .only(*SERVICE_RECORD_FIELDS)
        .order_by("-created_at", "-id")
    )


SERVICE_RECORD_FIELDS = (
    "id",
    "number",
    "title",
    "status",
    "urgency",
    "passport_code",
    "device_name",
    "accepted_at",
    "completed_at",
    "work_done",
    "created_at",
)


def certification_get(*, organization_id: UUID, certification_id: UUID) -> ExpertCertification:
    """A certification the organization may read: its own experts', or a published profile's."""
    certification = (
        ExpertCertification.objects.filter(Q(organization_id=organization_id) | Q(is_published=True))
        .filter(id=certification_id)
        .first()
    )
    if certification is None or not certification.file:
        raise NotFound("Certification not found.")
    return certification


# --- Service orders ----------------------------------------------------------------------------


def _own_orders(queryset: QuerySet[ServiceOrder], user_id: UUID | None) -> QuerySet[ServiceOrder]:
    """With an `:own` grant: the orders the person asked for or is the customer of, and the
    ones they hold as the expert."""
    if user_id is None:
        return queryset
    return queryset.filter(Q(customer_id=user_id) | Q(created_by_id=user_id) | Q(expert_user_id=user_id))


def service_order_list(*, organization_id: UUID, own_user_id: UUID | None = None) -> QuerySet[ServiceOrder]:
    """The service orders of either side: the organization's own (the customer), and those its
    experts hold; newest first, with the expert's summary."""
    queryset = (
        ServiceOrder.objects.visible_to(organization_id)
        .select_related("expert")
        .only(*SERVICE_ORDER_LIST_FIELDS)
        .order_by("-created_at", "-id")
    )
    return _own_orders(queryset, own_user_id)


SERVICE_ORDER_LIST_FIELDS = (
    "id",
    "organization_id",
    "expert_organization_id",
    "number",
    "title",
    "urgency",
    "status",
    "status_changed_at",
    "required_skill",
    "passport_id",
    "passport_code",
    "device_name",
    "customer_id",
    "expert_user_id",
    "address",
    "latitude",
    "longitude",
    "scheduled_start",
    "scheduled_end",
    "price",
    "currency",
    "accepted_at",
    "completed_at",
    "created_at",
    "updated_at",
    *(f"expert__{name}" for name in ("id", "code", "display_name", "rating_average", "rating_count", "work_status")),
)


def service_order_get(
    *, organization_id: UUID, service_order_id: UUID, own_user_id: UUID | None = None
) -> ServiceOrder:
    """One service order of either side, with its history and files; 404 for any other."""
    order = (
        _own_orders(ServiceOrder.objects.visible_to(organization_id), own_user_id)
        .filter(id=service_order_id)
        .select_related("expert")
        .prefetch_related(
            Prefetch("status_changes", queryset=ServiceOrderStatusChange.objects.order_by("at", "id")),
            Prefetch("attachments", queryset=ServiceOrderAttachment.objects.order_by("created_at", "id")),
        )
        .first()
    )
    if order is None:
        raise NotFound("Service order not found.")
    return order


def customer_order_get(
    *, organization_id: UUID, service_order_id: UUID, own_user_id: UUID | None = None
) -> ServiceOrder:
    """The customer organization's order (not the expert side's view of it); 404 otherwise."""
    order = (
        _own_orders(ServiceOrder.objects.filter(organization_id=organization_id), own_user_id)
        .filter(id=service_order_id)
        .only("id", "organization_id", "number")
        .first()
    )
    if order is None:
        raise NotFound("Service order not found.")
    return order


def service_order_matches(*, order: ServiceOrder) -> QuerySet[MatchingResult]:
    """The scored candidates of a customer's order, best first, each with what the customer may
    read of the expert (a profile no longer published reads as nulls)."""
    expert = ExpertPassport.objects.filter(id=OuterRef("target_id"))
    return (
        MatchingResult.objects.filter(
            organization_id=order.organization_id, source_type=MatchSourceType.SERVICE_ORDER, source_id=order.id
        )
        .annotate(
            expert_code=Subquery(expert.values("code")[:1]),
            expert_display_name=Subquery(expert.values("display_name")[:1]),
            expert_rating_average=Subquery(expert.values("rating_average")[:1]),
            expert_work_status=Subquery(expert.values("work_status")[:1]),
        )
        .order_by("rank", "id")
    )


def attachment_get(*, organization_id: UUID, attachment_id: UUID) -> ServiceOrderAttachment:
    """A file of a service order the organization is a party of; 404 otherwise."""
    attachment = ServiceOrderAttachment.objects.visible_to(organization_id).filter(id=attachment_id).first()
    if attachment is None:
        raise NotFound("Attachment not found.")
    return attachment
