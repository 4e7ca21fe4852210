import django_filters
from django.db.models import Q

from apps.marketplace.models import Offer, OfferStatus, Rfq, RfqStatus, ServiceOffering, ServiceType


class CountryFilter(django_filters.CharFilter):
    def filter(self, queryset, value):
        return super().filter(queryset, value.upper() if value else value)


class OfferingFilter(django_filters.FilterSet):
    service_type = django_filters.ChoiceFilter(choices=ServiceType.choices)
    origin_country = CountryFilter(method="filter_origin", label="Covers this origin country (ISO 3166-1 alpha-2)")
    destination_country = CountryFilter(method="filter_destination", label="Covers this destination country")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only my organization's offerings")

    class Meta:
        model = ServiceOffering
        fields = ["service_type", "origin_country", "destination_country", "mine"]

    def filter_origin(self, queryset, name, value):
        return queryset.filter(Q(origin_countries=[]) | Q(origin_countries__contains=[value.upper()]))

    def filter_destination(self, queryset, name, value):
        return queryset.filter(Q(destination_countries=[]) | Q(destination_countries__contains=[value.upper()]))

    def filter_mine(self, queryset, name, value):
        organization_id = self.request.membership.organization_id
        return queryset.filter(organization_id=organization_id) if value else queryset


class RfqFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RfqStatus.choices)
    service_type = django_filters.ChoiceFilter(choices=ServiceType.choices)
    origin_country = CountryFilter(method="filter_origin", label="A segment starts in this country")
    destination_country = CountryFilter(method="filter_destination", label="A segment ends in this country")
    weight_min = django_filters.NumberFilter(field_name="weight_kg", lookup_expr="gte")
    weight_max = django_filters.NumberFilter(field_name="weight_kg", lookup_expr="lte")
    deadline_after = django_filters.IsoDateTimeFilter(field_name="deadline", lookup_expr="gte")
    deadline_before = django_filters.IsoDateTimeFilter(field_name="deadline", lookup_expr="lt")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only my organization's RFQs")
    search = django_filters.CharFilter(method="filter_search", label="Number or title contains")

    class Meta:
        model = Rfq
        fields = [
            "status",
            "service_type",
            "origin_country",
            "destination_country",
            "weight_min",
            "weight_max",
            "deadline_after",
            "deadline_before",
            "mine",
            "search",
        ]

    def filter_origin(self, queryset, name, value):
        # JSON containment, answered by the segments' GIN index.
        return queryset.filter(segments__contains=[{"origin": {"country": value.upper()}}])

    def filter_destination(self, queryset, name, value):
        return queryset.filter(segments__contains=[{"destination": {"country": value.upper()}}])

    def filter_mine(self, queryset, name, value):
        organization_id = self.request.membership.organization_id
        return queryset.filter(organization_id=organization_id) if value else queryset

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value))

    def is_valid(self):
        valid = super().is_valid()
        low, high = self.form.cleaned_data.get("weight_min"), self.form.cleaned_data.get("weight_max")
        if valid and low is not None and high is not None and low > high:
            self.form.add_error("weight_min", f"Must be at most weight_max ({high}).")
            return False
        return valid


class OfferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OfferStatus.choices)
    rfq = django_filters.UUIDFilter(field_name="rfq_id")
    side = django_filters.ChoiceFilter(
        choices=[("carrier", "Offers we made"), ("shipper", "Offers on our RFQs")], method="filter_side"
    )

    class Meta:
        model = Offer
        fields = ["status", "rfq", "side"]

    def filter_side(self, queryset, name, value):
        organization_id = self.request.membership.organization_id
        if value == "carrier":
            return queryset.filter(carrier_organization_id=organization_id)
        return queryset.filter(shipper_organization_id=organization_id)
