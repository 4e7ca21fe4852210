"""Query-string filters of GET /experts and GET /service-orders."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import django_filters
from django import forms

from apps.core.countries import country_codes
from apps.service import selectors, vocabulary
from apps.service.models import (
    ExpertPassport,
    ExpertType,
    MembershipLevel,
    ServiceOrder,
    ServiceOrderStatus,
    Urgency,
    WorkStatus,
)

EXPERT_ORDERINGS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-rating": ("-rating_average", "-rating_count", "-id"),
    "-years_experience": ("-years_experience", "-id"),
    "-completed_orders": ("-completed_orders", "-id"),
}
SERVICE_ORDER_ORDERINGS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
}
SIDES = [("customer", "Orders of your organization (you are the customer)"), ("expert", "Orders your experts hold")]


def _ordering(orderings: dict, label: str) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        choices=[(name, name) for name in orderings], method="filter_ordering", label=label
    )


class PointField(forms.CharField):
    """`lat,lon` in decimal degrees, e.g. `59.93,30.33`."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        latitude, _, longitude = value.partition(",")
        try:
            point = Decimal(latitude.strip()), Decimal(longitude.strip())
        except InvalidOperation:
            raise forms.ValidationError("Latitude and longitude in degrees: lat,lon (e.g. 59.93,30.33).") from None
        if not (point[0].is_finite() and point[1].is_finite() and -90 <= point[0] <= 90 and -180 <= point[1] <= 180):
            raise forms.ValidationError("Latitude between -90 and 90, longitude between -180 and 180.")
        return point


class PointFilter(django_filters.Filter):
    field_class = PointField


class ExpertFilter(django_filters.FilterSet):
    skill = django_filters.ChoiceFilter(
        choices=[(key, key) for key in vocabulary.SKILL_KEYS],
        method="filter_skill",
        label="Has this skill (INDUSTRY-SKILL, GET /experts/skills)",
    )
    industry = django_filters.ChoiceFilter(
        choices=list(vocabulary.INDUSTRIES.items()), field_name="industry_code", label="The main industry"
    )
    expert_type = django_filters.ChoiceFilter(choices=ExpertType.choices)
    work_status = django_filters.ChoiceFilter(choices=WorkStatus.choices)
    membership_level = django_filters.ChoiceFilter(choices=MembershipLevel.choices)
    language = django_filters.CharFilter(
        method="filter_language", min_length=2, max_length=2, label="Speaks this language (ISO 639-1, e.g. en)"
    )
    nationality = django_filters.ChoiceFilter(choices=[(code, code) for code in country_codes()])
    near = PointFilter(method="filter_near", label="lat,lon: experts whose service area takes in this point")
    min_rating = django_filters.NumberFilter(
        field_name="rating_average", lookup_expr="gte", min_value=0, max_value=5, label="Rated at least (0-5)"
    )
    ordering = _ordering(EXPERT_ORDERINGS, "Order of the list (default -created_at, newest first)")

    class Meta:
        model = ExpertPassport
        fields = [
            "skill",
            "industry",
            "expert_type",
            "work_status",
            "membership_level",
            "language",
            "nationality",
            "near",
            "min_rating",
            "ordering",
        ]

    def filter_skill(self, queryset, name, value):
        return queryset.filter(skills__contains=[value])

    def filter_language(self, queryset, name, value):
        return queryset.filter(languages__contains=[value.lower()])

    def filter_near(self, queryset, name, value):
        if value is None:
            return queryset
        return selectors.expert_area_contains(queryset, latitude=value[0], longitude=value[1])

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*EXPERT_ORDERINGS[value])


class ServiceOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ServiceOrderStatus.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    side = django_filters.ChoiceFilter(choices=SIDES, method="filter_side", label="Default: both")
    passport_id = django_filters.UUIDFilter(label="The device serviced")
    expert_id = django_filters.UUIDFilter(label="The expert who holds the order")
    ordering = _ordering(SERVICE_ORDER_ORDERINGS, "Order of the list (default -created_at, newest first)")

    class Meta:
        model = ServiceOrder
        fields = ["status", "urgency", "side", "passport_id", "expert_id", "ordering"]

    def filter_side(self, queryset, name, value):
        organization_id = self.request.membership.organization_id
        if value == "customer":
            return queryset.filter(organization_id=organization_id)
        return queryset.filter(expert_organization_id=organization_id)

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*SERVICE_ORDER_ORDERINGS[value])
