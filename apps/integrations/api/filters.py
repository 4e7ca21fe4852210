"""Query-string filters of the platform integrations lists."""

from __future__ import annotations

import django_filters

from apps.integrations.models import (
    BillingKind,
    BillingRecord,
    DuplicateFlag,
    DuplicateStatus,
    Platform,
    PlatformOrderLink,
    QuarantinedOrder,
)


class QuarantineFilter(django_filters.FilterSet):
    configuration = django_filters.UUIDFilter(field_name="configuration_id", label="The shop (configuration id)")
    # true or false exactly: django-filter's BooleanFilter reads any other word as "no filter".
    released = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_released",
        label="true: imported since (a later read was sound); false: still held",
    )

    class Meta:
        model = QuarantinedOrder
        fields = ["configuration", "released"]

    def filter_released(self, queryset, name, value):
        return queryset.filter(released_at__isnull=value == "false")


class DuplicateFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DuplicateStatus.choices)

    class Meta:
        model = DuplicateFlag
        fields = ["status"]


class BillingRecordFilter(django_filters.FilterSet):
    order_id = django_filters.UUIDFilter(label="Our order")
    kind = django_filters.ChoiceFilter(choices=BillingKind.choices)

    class Meta:
        model = BillingRecord
        fields = ["order_id", "kind"]


class PlatformOrderFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.choices)
    configuration = django_filters.UUIDFilter(field_name="configuration_id", label="The shop (configuration id)")
    external_id = django_filters.CharFilter(max_length=128, label="The platform's order id")

    class Meta:
        model = PlatformOrderLink
        fields = ["platform", "configuration", "external_id"]
